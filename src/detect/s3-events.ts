/**
 * S3 event notifications (`{"Records": [...]}`) as AWS S3, MinIO webhook targets and Ceph RGW
 * HTTP endpoints send them. Only what replication needs is read; unknown fields are ignored.
 *
 * Keys: AWS and MinIO send them URL-encoded in the form style (`+` for a space); Ceph RGW sends
 * them as they are. With `keyEncoding: auto` the record's `eventSource` decides (`ceph:s3` raw,
 * anything else URL-encoded as AWS does); `url` or `raw` force one.
 * Sizes: AWS and MinIO send numbers, Ceph strings. Names: `ObjectCreated:Put` (AWS, Ceph) or
 * `s3:ObjectCreated:Put` (MinIO, older Ceph).
 */
import type { SourceObject } from '../ports/source-store.js';

export type KeyEncoding = 'auto' | 'url' | 'raw';

export interface ParsedEvents {
  /** Created (or overwritten) object versions; their mtime is the event time (mtimeExact false). */
  readonly created: SourceObject[];
  readonly removed: { readonly bucket: string; readonly key: string }[];
  /** Records of other kinds (restore, replication, lifecycle transitions...). */
  readonly otherKinds: number;
}

export class EventBodyError extends Error {}

/** Lone UTF-16 surrogates (JSON allows "\ud800"): no UTF-8 form, so never an S3 key (the journal would store another key). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function decodeKey(raw: string, encoding: KeyEncoding, source: unknown, index: number): string {
  const url = encoding === 'url' || (encoding === 'auto' && source !== 'ceph:s3');
  if (!url) return raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new EventBodyError(`Records[${index}].s3.object.key: not valid URL encoding`);
  }
}

export function parseS3Events(body: unknown, encoding: KeyEncoding, now: Date): ParsedEvents {
  if (!isRecord(body) || !Array.isArray(body['Records'])) throw new EventBodyError('expected a JSON object with a "Records" list');
  const created: SourceObject[] = [];
  const removed: { bucket: string; key: string }[] = [];
  let otherKinds = 0;
  body['Records'].forEach((record: unknown, index) => {
    const at = `Records[${index}]`;
    if (!isRecord(record)) throw new EventBodyError(`${at}: expected an object`);
    const name = record['eventName'];
    if (typeof name !== 'string') throw new EventBodyError(`${at}.eventName: expected a string`);
    const kind = name.replace(/^s3:/, '');
    const s3 = record['s3'];
    const bucket = isRecord(s3) && isRecord(s3['bucket']) ? s3['bucket']['name'] : undefined;
    const object = isRecord(s3) && isRecord(s3['object']) ? s3['object'] : undefined;
    if (!kind.startsWith('ObjectCreated:') && !kind.startsWith('ObjectRemoved:')) {
      otherKinds += 1;
      return;
    }
    if (typeof bucket !== 'string' || bucket === '') throw new EventBodyError(`${at}.s3.bucket.name: expected a bucket name`);
    if (object === undefined || typeof object['key'] !== 'string' || object['key'] === '') {
      throw new EventBodyError(`${at}.s3.object.key: expected a key`);
    }
    const key = decodeKey(object['key'], encoding, record['eventSource'], index);
    if (LONE_SURROGATE.test(key)) throw new EventBodyError(`${at}.s3.object.key: not valid Unicode (a lone surrogate)`);
    if (kind.startsWith('ObjectRemoved:')) {
      removed.push({ bucket, key });
      return;
    }
    const quoted = typeof object['eTag'] === 'string' ? object['eTag'] : typeof object['etag'] === 'string' ? object['etag'] : undefined;
    const etag = quoted?.replace(/^"+|"+$/g, '');
    if (etag === undefined || etag === '') throw new EventBodyError(`${at}.s3.object.eTag: expected the object's ETag`);
    // Ceph sends the size as a string of digits ('' or '0x10' is not a size, whatever Number() says).
    const size = typeof object['size'] === 'string' ? (/^\d+$/.test(object['size']) ? Number(object['size']) : NaN) : object['size'];
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      throw new EventBodyError(`${at}.s3.object.size: expected a size in bytes`);
    const time = typeof record['eventTime'] === 'string' ? new Date(record['eventTime']) : now;
    const versionId = typeof object['versionId'] === 'string' && object['versionId'] !== '' ? object['versionId'] : undefined;
    created.push({
      bucket,
      key,
      etag,
      size,
      mtime: Number.isNaN(time.getTime()) ? now : time,
      mtimeExact: false,
      ...(versionId === undefined ? {} : { versionId }),
    });
  });
  return { created, removed, otherKinds };
}
