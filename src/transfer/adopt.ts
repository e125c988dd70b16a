/**
 * Adoption: when the journal is lost or a site is reinstalled, the core already holds what an
 * earlier journal landed. The first scan pass of a target this journal never completed lists the
 * core under the target's core-key prefix (a LIST page per 1,000 keys, kept in the journal), then
 * reads the site's manifests once per process (transfer/read-manifests.ts: a LIST page per 1,000
 * files, one GET per file; the latest line per core key is kept in the journal), and every edge
 * version it finds whose core copy is proven to hold it is journaled done instead of being sent
 * again:
 *   - by its manifest line, without a request: the latest line for the rendered core key names this
 *     edge version (source bucket, key, ETag, size and Last-Modified), and the listing shows the
 *     copy that line left (its core size, its core ETag when the line has one) and, where both
 *     ETags are plain MD5s, the edge's MD5. Its SHA-256 is the line's; it is listed already, so no
 *     line is written for it;
 *   - where no line proves it (the manifests were lost, or the journal that landed it was lost
 *     before it wrote its manifest), by one HEAD of the core copy: its lineage names this site,
 *     source bucket, key, ETag and Last-Modified, the size matches, and it carries a SHA-256. It
 *     then gets a manifest line of its own, marked `"adopted": true`;
 *   - anything else (no copy, another size, other bytes, other or no lineage: another tool's copy,
 *     an older version whose headers changed at the edge since) is queued and sent as usual.
 * The listing's rejections (another size, a plain MD5 that shows other bytes) cost no request.
 * Only keys the journal has never seen are adopted: a row of the key (an event, an older version)
 * may be in flight, and its landing would overwrite what was adopted. A core key marked suspect
 * (a wrong copy of ours may be there) is never adopted.
 */
import { coerceError, TributaryError } from '../core/errors.js';
import { forEachConcurrently } from '../core/for-each-concurrently.js';
import { decide, type Rule } from '../core/rules.js';
import type { ManifestLanding } from '../core/manifest-line.js';
import { coreKeyFor, coreKeyPrefix, type KeyTemplateSettings } from '../land/core-key-for.js';
import { META } from '../land/lineage.js';
import type { AdoptedVersion, AdoptionJournal, AdoptionTotals, CoreListingEntry, Journal } from '../ports/journal.js';
import type { LakeHead, LakeStore } from '../ports/lake-store.js';
import type { SourceObject } from '../ports/source-store.js';
import { etagContradicts } from './core-copy.js';
import { isPlainMd5Etag } from './read-and-hash.js';
import { readSiteManifests, type ManifestReading } from './read-manifests.js';

/** A scan target: an edge bucket and the prefix scanned in it. */
export interface AdoptionTarget {
  readonly name: string;
  readonly prefix: string;
}

export interface AdoptionDeps {
  readonly journal: AdoptionJournal & Pick<Journal, 'latest' | 'isCoreCopySuspect' | 'checkpoint'>;
  readonly lake: LakeStore;
  readonly keys: KeyTemplateSettings;
  readonly rules: readonly Rule[];
  /** False when core ETags are opaque (core writes use SSE-KMS): every match then needs a HEAD. */
  readonly coreEtagsFromMd5: boolean;
  /** Keys per core LIST request. */
  readonly pageSize: number;
  /** HEADs, and GETs of manifest files, at once. */
  readonly concurrency: number;
  /**
   * Every target the scan walks: the manifests are read once for all those whose pass adopts (a
   * new journal's first scan adopts for every target).
   */
  readonly targets: readonly AdoptionTarget[];
  /** The core refused the listing (no s3:ListBucket): that target's pass sends everything. */
  readonly onListingRefused?: (target: AdoptionTarget, error: TributaryError) => void;
  /** The manifests were read (how many files and lines, and how many lines were skipped). */
  readonly onManifestsRead?: (reading: ManifestReading) => void;
  /** The core refused to list or serve the manifests: every adoption then needs a HEAD. */
  readonly onManifestsRefused?: (error: TributaryError) => void;
}

export interface Adoption {
  /**
   * At the start of a target's pass: whether it adopts. A first pass does, and so does its
   * continuation after an interruption; before that the core is listed, once per process (a
   * listing an earlier process made may be old). Any other pass does not.
   */
  begin(target: AdoptionTarget, pass: 'first' | 'resumed' | 'again', signal?: AbortSignal): Promise<boolean>;
  /** Journals as done the listed versions the core is proven to hold; call before they are recorded as seen. */
  adopt(target: AdoptionTarget, objects: readonly SourceObject[], signal?: AbortSignal): Promise<AdoptionTotals>;
  /** The adopting pass is complete: the listing is dropped. */
  finish(target: AdoptionTarget): void;
}

/** What the core's listing says about its copy of `object`: the same bytes, other bytes, or it cannot tell. */
export function listingProof(
  object: Pick<SourceObject, 'etag' | 'size'>,
  listed: Pick<CoreListingEntry, 'etag' | 'size'>,
  coreEtagsFromMd5: boolean,
): 'same' | 'differs' | 'ask' {
  if (listed.size !== object.size) return 'differs';
  if (isPlainMd5Etag(object.etag) && coreEtagsFromMd5 && isPlainMd5Etag(listed.etag)) {
    return listed.etag.toLowerCase() === object.etag.toLowerCase() ? 'same' : 'differs';
  }
  return 'ask';
}

/**
 * Whether the manifest line `landing` (the latest for the core key) proves the listed core copy
 * holds `object`: it names this edge version (source bucket, key, ETag, size and Last-Modified),
 * and the listing shows the copy that line left (its core size; its core ETag, when the line has
 * one) and no other bytes than the edge's (listingProof).
 */
export function manifestProof(
  landing: ManifestLanding,
  object: SourceObject,
  listed: Pick<CoreListingEntry, 'etag' | 'size'>,
  coreEtagsFromMd5: boolean,
): boolean {
  return (
    landing.sourceBucket === object.bucket &&
    landing.sourceKey === object.key &&
    landing.sourceEtag === object.etag &&
    landing.size === object.size &&
    landing.sourceMtimeMs === object.mtime.getTime() &&
    landing.coreSize === listed.size &&
    (landing.coreEtag === null || landing.coreEtag.toLowerCase() === listed.etag.toLowerCase()) &&
    listingProof(object, listed, coreEtagsFromMd5) !== 'differs'
  );
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The SHA-256 a core copy's lineage vouches for when the HEAD shows it holds `object`, else
 * undefined: it names this site, source bucket, key, ETag and Last-Modified (an edge object whose
 * headers changed has a new one, with the same bytes), stored as it is (not encoded), of the same
 * size, with a SHA-256, and a plain-MD5 ETag (if it has one) does not show other bytes.
 */
export function headProof(head: LakeHead | undefined, object: SourceObject, site: string): string | undefined {
  if (head === undefined || head.size !== object.size) return undefined;
  const lineage = head.metadata;
  const mtime = lineage[META.sourceMtime];
  if (
    lineage[META.site] !== site ||
    lineage[META.sourceBucket] !== object.bucket ||
    lineage[META.sourceKey] !== encodeURIComponent(object.key) ||
    lineage[META.sourceEtag] !== object.etag ||
    mtime === undefined ||
    Date.parse(mtime) !== object.mtime.getTime() ||
    (lineage[META.encoding] !== undefined && lineage[META.encoding] !== 'identity')
  ) {
    return undefined;
  }
  const sha256 = lineage[META.sha256];
  if (sha256 === undefined || !SHA256_HEX.test(sha256)) return undefined;
  if (isPlainMd5Etag(object.etag) && etagContradicts(head, object.etag.toLowerCase())) return undefined;
  return sha256;
}

/**
 * The error a target's adopting pass stops with while the core does not answer: the pass waits
 * for it (the scan fails and is tried again). Nothing could be sent meanwhile anyway, and what a
 * pass without the listing and the manifests queued would be sent again once the core is back:
 * the waste adoption prevents.
 */
function waitsForCore(err: TributaryError, target: AdoptionTarget): TributaryError {
  return new TributaryError(
    err.code,
    `${err.message} (the first scan pass of ${target.name}/${target.prefix} lists what the core already holds before it journals anything: it waits for the core)`,
    { cause: err, ...(err.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: err.retryAfterSeconds }) },
  );
}

export function createAdoption(deps: AdoptionDeps): Adoption {
  const { journal, lake } = deps;
  const listedByThisProcess = new Set<string>();
  // The manifests are read once per process, for every target whose pass adopts: a new journal's
  // first scan goes through all of them, and reading the site's manifests for each would multiply
  // the GETs. What a process read is dropped once no target adopts any more.
  let manifestsRead = false;
  const id = (target: AdoptionTarget) => JSON.stringify([target.name, target.prefix]);
  /** Adopting now, or about to: a first pass has no checkpoint yet. */
  const adopts = (target: AdoptionTarget) =>
    journal.isAdopting(target.name, target.prefix) || journal.checkpoint(target.name, target.prefix) === undefined;

  async function listCore(target: AdoptionTarget, signal: AbortSignal | undefined): Promise<void> {
    journal.clearCoreListing(target.name, target.prefix);
    const prefix = coreKeyPrefix(deps.keys, target.name, target.prefix);
    let startAfter: string | undefined;
    do {
      const page = await lake.list(prefix, startAfter, { signal, pageSize: deps.pageSize });
      journal.recordCoreListing(
        target.name,
        target.prefix,
        page.objects.map((o) => ({ coreKey: o.key, etag: o.etag, size: o.size })),
      );
      startAfter = page.nextStartAfter;
    } while (startAfter !== undefined);
  }

  async function readManifests(target: AdoptionTarget, signal: AbortSignal | undefined): Promise<void> {
    const adopting = [target, ...deps.targets.filter(adopts)];
    const prefixes = [...new Set(adopting.map((t) => coreKeyPrefix(deps.keys, t.name, t.prefix)))];
    journal.clearManifestLandings();
    try {
      const reading = await readSiteManifests(
        { lake, journal, site: deps.keys.site, pageSize: deps.pageSize, concurrency: deps.concurrency },
        prefixes,
        signal,
      );
      deps.onManifestsRead?.(reading);
    } catch (error) {
      const err = coerceError(error);
      if (err.errorClass !== 'permanent') throw waitsForCore(err, target);
      // Refused (no s3:GetObject on _tributary/, say): no line proves anything, every adoption
      // needs a HEAD of the lineage. Costlier, never wrong.
      journal.clearManifestLandings();
      deps.onManifestsRefused?.(err);
    }
    manifestsRead = true;
  }

  /** `done`: a target whose pass adopts no more, though its checkpoint may not be saved yet. */
  function dropManifestsUnlessAdopting(done: AdoptionTarget): void {
    if (deps.targets.some((t) => id(t) !== id(done) && adopts(t))) return;
    journal.clearManifestLandings();
    manifestsRead = false;
  }

  return {
    async begin(target, pass, signal) {
      if (pass === 'first') journal.startAdoption(target.name, target.prefix);
      else if (!journal.isAdopting(target.name, target.prefix)) return false;
      else if (pass === 'again') {
        // A pass completed, but the process stopped before it said so here.
        journal.finishAdoption(target.name, target.prefix);
        dropManifestsUnlessAdopting(target);
        return false;
      }
      if (!listedByThisProcess.has(id(target))) {
        try {
          await listCore(target, signal);
        } catch (error) {
          const err = coerceError(error);
          if (err.errorClass !== 'permanent') throw waitsForCore(err, target);
          journal.finishAdoption(target.name, target.prefix);
          dropManifestsUnlessAdopting(target);
          deps.onListingRefused?.(target, err);
          return false;
        }
        listedByThisProcess.add(id(target));
      }
      if (!manifestsRead) await readManifests(target, signal);
      return true;
    },

    async adopt(target, objects, signal) {
      const adopted: AdoptedVersion[] = [];
      const asks: { object: SourceObject; priority: number; coreKey: string; listed: CoreListingEntry }[] = [];
      for (const object of objects) {
        const decision = decide(deps.rules, object.bucket, object.key);
        if (decision.excluded || journal.latest(object.bucket, object.key) !== undefined) continue;
        let coreKey: string;
        try {
          coreKey = coreKeyFor(deps.keys, { bucket: object.bucket, key: object.key, mtimeMs: object.mtime.getTime() });
        } catch {
          continue; // queued as usual, and dead there with the reason
        }
        const listed = journal.coreListed(target.name, target.prefix, coreKey);
        if (listed === undefined || journal.isCoreCopySuspect(coreKey)) continue;
        // Another size, or a plain MD5 that shows other bytes: sent, without asking anything.
        if (listingProof(object, listed, deps.coreEtagsFromMd5) === 'differs') continue;
        const landing = journal.manifestLanding(coreKey);
        if (landing !== undefined && manifestProof(landing, object, listed, deps.coreEtagsFromMd5)) {
          adopted.push({
            object,
            priority: decision.priority,
            coreKey,
            coreEtag: listed.etag,
            coreSize: listed.size,
            sha256: landing.sha256,
            proof: 'manifest',
            listInManifest: false,
          });
        } else {
          asks.push({ object, priority: decision.priority, coreKey, listed });
        }
      }
      await forEachConcurrently(asks, deps.concurrency, async ({ object, priority, coreKey, listed }) => {
        let head: LakeHead | undefined;
        try {
          head = await lake.head(coreKey, { signal });
        } catch (error) {
          // Refused: the object is sent as usual. Anything else ends the page (the scan tries
          // again): sending a large object again for a failed HEAD would cost far more.
          if (coerceError(error).errorClass === 'permanent') return;
          throw error;
        }
        const sha256 = headProof(head, object, deps.keys.site);
        if (sha256 === undefined || head === undefined) return;
        // No manifest line names it: this one is its first.
        adopted.push({
          object,
          priority,
          coreKey,
          coreEtag: head.etag ?? listed.etag,
          coreSize: head.size,
          sha256,
          proof: 'head',
          listInManifest: true,
        });
      });
      return journal.adopt(adopted);
    },

    finish(target) {
      journal.finishAdoption(target.name, target.prefix);
      listedByThisProcess.delete(id(target));
      dropManifestsUnlessAdopting(target);
    },
  };
}
