/**
 * Parses a ListObjectsV2 answer (ListBucketResult XML). Values are kept as text (a key "0123"
 * stays a string), surrounding spaces are kept (they are part of keys), entities are decoded, and
 * url-encoded keys (EncodingType=url) are decoded.
 */
import { XMLParser } from 'fast-xml-parser';

import { TributaryError } from '../core/errors.js';
import type { SourceObject } from '../ports/source-store.js';

export interface Listing {
  readonly objects: SourceObject[];
  readonly isTruncated: boolean;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  // Numeric character references (&#x27;) are XML too; named HTML entities never appear in S3
  // answers, and a key's own "&copy;" arrives as "&amp;copy;" and is decoded only once.
  htmlEntities: true,
  isArray: (name) => name === 'Contents',
});

export function unquoteEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^W\//, '').replace(/^"+|"+$/g, '');
}

function decodeUrlEncoded(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

export function parseListing(xml: string, bucket: string, side: 'edge' | 'core' = 'edge'): Listing {
  const code = side === 'edge' ? 'TRIB_ERR_EDGE_BAD_RESPONSE' : 'TRIB_ERR_CORE_BAD_RESPONSE';
  let document: { ListBucketResult?: Record<string, unknown> };
  try {
    document = parser.parse(xml) as typeof document;
  } catch (error) {
    throw new TributaryError(code, `${side} LIST ${bucket}: malformed XML: ${(error as Error).message}`, { cause: error });
  }
  const result = document.ListBucketResult;
  if (result === undefined || typeof result !== 'object') {
    throw new TributaryError(code, `${side} LIST ${bucket}: the answer is not a ListBucketResult`);
  }
  const encoded = result['EncodingType'] === 'url';
  const contents = (result['Contents'] ?? []) as Record<string, unknown>[];
  const objects = contents.map((item): SourceObject => {
    const key = item['Key'];
    const size = Number(item['Size']);
    const mtime = new Date(String(item['LastModified'] ?? ''));
    if (typeof key !== 'string' || !Number.isSafeInteger(size) || Number.isNaN(mtime.getTime())) {
      throw new TributaryError(code, `${side} LIST ${bucket}: an entry without a valid Key, Size or LastModified`);
    }
    return { bucket, key: encoded ? decodeUrlEncoded(key) : key, etag: unquoteEtag(String(item['ETag'] ?? '')), size, mtime };
  });
  return { objects, isTruncated: String(result['IsTruncated']).trim() === 'true' };
}
