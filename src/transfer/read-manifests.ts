/**
 * What the site's manifests say landed at each core key: a new journal's cheap proof of a core
 * copy's lineage (transfer/adopt.ts). Every manifest file under `_tributary/manifests/site=<site>/`
 * is listed (a LIST page per `pageSize` keys) and read (one GET per file, `concurrency` at once),
 * line by line as its body streams in: a file holds up to 10,000 lines, and a site has many. The
 * lines for a core key under one of `prefixes` go to the journal, which keeps the latest landing
 * per key. A line that is not a manifest line of this site and core bucket is skipped and counted,
 * never fatal; so is a file that is not NDJSON (a later version may write others).
 */
import { forEachConcurrently } from '../core/for-each-concurrently.js';
import { parseManifestLine, siteManifestPrefix, type ManifestLanding } from '../core/manifest-line.js';
import type { AdoptionJournal } from '../ports/journal.js';
import type { LakeStore } from '../ports/lake-store.js';

export interface ManifestReadingDeps {
  readonly lake: Pick<LakeStore, 'bucket' | 'list' | 'read'>;
  readonly journal: Pick<AdoptionJournal, 'recordManifestLandings'>;
  readonly site: string;
  /** Keys per LIST request. */
  readonly pageSize: number;
  /** GETs at once. */
  readonly concurrency: number;
}

export interface ManifestReading {
  /** Manifest files read, and files skipped (not `.ndjson`). */
  readonly files: number;
  readonly otherFiles: number;
  /** Lines read (empty ones aside), and of them those kept (under a prefix) and those skipped. */
  readonly lines: number;
  readonly kept: number;
  /** Not a manifest line (not JSON, a field missing or wrong, no SHA-256), or another site's or core bucket's. */
  readonly skipped: number;
}

/** Longer than any manifest line (two keys of at most 1,024 bytes, a few short fields). */
const MAX_LINE_BYTES = 64 * 1024;
/** Landings written to the journal per transaction. */
const BATCH = 1000;

/**
 * Splits a byte stream into lines without holding more than one line: a line longer than
 * MAX_LINE_BYTES (no manifest line is) is dropped and reported as `undefined`.
 */
async function* linesOf(body: AsyncIterable<Buffer>): AsyncGenerator<string | undefined> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let overlong = false;
  for await (const chunk of body) {
    let start = 0;
    for (let end = chunk.indexOf(0x0a); end !== -1; end = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, end);
      if (overlong || pendingBytes + piece.length > MAX_LINE_BYTES) yield undefined;
      else yield Buffer.concat([...pending, piece]).toString('utf8');
      pending = [];
      pendingBytes = 0;
      overlong = false;
      start = end + 1;
    }
    const rest = chunk.subarray(start);
    if (overlong || pendingBytes + rest.length > MAX_LINE_BYTES) {
      pending = [];
      pendingBytes = 0;
      overlong = true;
    } else if (rest.length > 0) {
      pending.push(Buffer.from(rest));
      pendingBytes += rest.length;
    }
  }
  if (overlong) yield undefined;
  else if (pendingBytes > 0) yield Buffer.concat(pending).toString('utf8');
}

export async function readSiteManifests(
  deps: ManifestReadingDeps,
  prefixes: readonly string[],
  signal?: AbortSignal,
): Promise<ManifestReading> {
  const { lake, journal } = deps;
  let files = 0;
  let otherFiles = 0;
  let lines = 0;
  let kept = 0;
  let skipped = 0;

  async function readFile(key: string): Promise<void> {
    const { body } = await lake.read(key, { signal });
    let batch: ManifestLanding[] = [];
    for await (const text of linesOf(body as AsyncIterable<Buffer>)) {
      if (text?.trim() === '') continue;
      lines += 1;
      const line = text === undefined ? undefined : parseManifestLine(text);
      if (line === undefined || line.site !== deps.site || line.coreBucket !== lake.bucket) {
        skipped += 1;
        continue;
      }
      if (!prefixes.some((prefix) => line.coreKey.startsWith(prefix))) continue;
      kept += 1;
      batch.push(line);
      if (batch.length >= BATCH) {
        journal.recordManifestLandings(batch);
        batch = [];
      }
    }
    journal.recordManifestLandings(batch);
    files += 1;
  }

  const prefix = siteManifestPrefix(deps.site);
  let startAfter: string | undefined;
  do {
    const page = await lake.list(prefix, startAfter, { signal, pageSize: deps.pageSize });
    const manifests = page.objects.map((o) => o.key).filter((key) => key.endsWith('.ndjson'));
    otherFiles += page.objects.length - manifests.length;
    await forEachConcurrently(manifests, deps.concurrency, readFile);
    startAfter = page.nextStartAfter;
  } while (startAfter !== undefined);
  return { files, otherFiles, lines, kept, skipped };
}
