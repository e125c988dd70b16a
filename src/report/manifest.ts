/**
 * Manifest lines: one flat JSON object per landed object (NDJSON), so DuckDB, Spark or Athena read
 * the files as they are (DuckDB: `read_json_auto` over the manifests prefix, a glob per level). Files live
 * under `_tributary/manifests/site=<site>/dt=<yyyy-mm-dd>/` (Hive-style partitions, by landing day
 * in UTC), one per batch and day, named after the batch so a rewrite lands on the same key. The
 * line's fields are in core/manifest-line.ts: a new journal reads them back to adopt what landed.
 */
import { siteManifestPrefix, type ManifestLine } from '../core/manifest-line.js';
import type { JournalObject } from '../ports/journal.js';

/** When the object landed; an adopted one has no landing of its own: when it was adopted. */
function landedAtOf(object: JournalObject): number {
  return object.landedAt ?? object.firstSeenAt;
}

export function manifestLine(site: string, coreBucket: string, object: JournalObject): ManifestLine {
  const landedAt = landedAtOf(object);
  return {
    site,
    source_bucket: object.bucket,
    source_key: object.key,
    source_etag: object.etag,
    source_mtime: new Date(object.mtimeMs).toISOString(),
    core_bucket: coreBucket,
    core_key: object.coreKey ?? '',
    size: object.size,
    core_size: object.coreSize ?? object.size,
    ...(object.coreEtag === null ? {} : { core_etag: object.coreEtag }),
    sha256: object.sha256 ?? '',
    detected_by: object.detectedBy,
    first_seen_at: new Date(object.firstSeenAt).toISOString(),
    landed_at: new Date(landedAt).toISOString(),
    lag_seconds: Math.max(0, (landedAt - object.firstSeenAt) / 1000),
    ...(object.landingReason === null ? {} : { relanding: object.landingReason }),
    ...(object.adoptedBy === null ? {} : { adopted: true as const }),
  };
}

/** NDJSON bytes written straight into Buffers: the lines never pile up in the JS heap as strings. */
class NdjsonBuilder {
  private static readonly CHUNK_BYTES = 256 * 1024;
  private readonly full: Buffer[] = [];
  private chunk = Buffer.allocUnsafe(NdjsonBuilder.CHUNK_BYTES);
  private used = 0;

  append(line: string): void {
    const bytes = Buffer.byteLength(line) + 1;
    if (this.used + bytes > this.chunk.length) {
      this.full.push(this.chunk.subarray(0, this.used));
      this.chunk = Buffer.allocUnsafe(Math.max(NdjsonBuilder.CHUNK_BYTES, bytes));
      this.used = 0;
    }
    this.used += this.chunk.write(line, this.used);
    this.chunk[this.used++] = 0x0a;
  }

  finish(): Buffer {
    const last = this.chunk.subarray(0, this.used);
    return this.full.length === 0 ? last : Buffer.concat([...this.full, last]);
  }
}

/**
 * The manifest files of one batch: key → NDJSON body (every line ends with a newline), one file
 * per landing day, and how many lines in all. The objects are read as they come and written
 * as bytes at once: a batch of 10,000 never sits in memory as objects or strings.
 */
export function manifestFiles(
  site: string,
  coreBucket: string,
  batch: { id: number; createdAt: number },
  objects: Iterable<JournalObject>,
): { readonly files: Map<string, Buffer>; readonly lines: number } {
  const byDay = new Map<string, NdjsonBuilder>();
  let lines = 0;
  for (const object of objects) {
    lines += 1;
    const day = new Date(landedAtOf(object)).toISOString().slice(0, 10);
    let body = byDay.get(day);
    if (body === undefined) byDay.set(day, (body = new NdjsonBuilder()));
    body.append(JSON.stringify(manifestLine(site, coreBucket, object)));
  }
  const name = `batch-${batch.createdAt}-${String(batch.id).padStart(8, '0')}.ndjson`;
  const files = new Map<string, Buffer>();
  for (const [day, body] of byDay) files.set(`${siteManifestPrefix(site)}dt=${day}/${name}`, body.finish());
  return { files, lines };
}
