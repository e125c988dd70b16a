/**
 * Adoption: when the journal is lost or a site is reinstalled, the core already holds what an
 * earlier journal landed. The first scan pass of a target this journal never completed lists the
 * core under the target's core-key prefix (a LIST page per 1,000 keys, kept in the journal), and
 * every edge version it finds whose core copy is proven to hold it is journaled done instead of
 * being sent again:
 *   - from the listing alone, without a request: same size, and a plain-MD5 core ETag equal to the
 *     edge's plain-MD5 ETag (a single-PUT copy of the same bytes has the same MD5 ETag);
 *   - otherwise (a multipart ETag on either side, or SSE-KMS at the core, whose ETags are opaque),
 *     by one HEAD of the core copy: its lineage names this site, source bucket, key and ETag, the
 *     size matches, and it carries a SHA-256;
 *   - anything else (no copy, another size, other bytes, other lineage) is queued and sent as usual.
 * Only keys the journal has never seen are adopted: a row of the key (an event, an older version)
 * may be in flight, and its landing would overwrite what was adopted. A core key marked suspect
 * (a wrong copy of ours may be there) is never adopted.
 *
 * An edge whose ETags are opaque although they look like MD5s (SSE-KMS at the edge) never matches
 * from the listing: its objects are sent again, never adopted wrongly.
 */
import { coerceError, TributaryError } from '../core/errors.js';
import { forEachConcurrently } from '../core/for-each-concurrently.js';
import { decide, type Rule } from '../core/rules.js';
import { coreKeyFor, coreKeyPrefix, type KeyTemplateSettings } from '../land/core-key-for.js';
import { META } from '../land/lineage.js';
import type { AdoptedVersion, AdoptionJournal, AdoptionTotals, CoreListingEntry, Journal } from '../ports/journal.js';
import type { LakeHead, LakeStore } from '../ports/lake-store.js';
import type { SourceObject } from '../ports/source-store.js';
import { etagContradicts } from './core-copy.js';
import { isPlainMd5Etag } from './read-and-hash.js';

/** A scan target: an edge bucket and the prefix scanned in it. */
export interface AdoptionTarget {
  readonly name: string;
  readonly prefix: string;
}

export interface AdoptionDeps {
  readonly journal: AdoptionJournal & Pick<Journal, 'latest' | 'isCoreCopySuspect'>;
  readonly lake: LakeStore;
  readonly keys: KeyTemplateSettings;
  readonly rules: readonly Rule[];
  /** False when core ETags are opaque (core writes use SSE-KMS): every match then needs a HEAD. */
  readonly coreEtagsFromMd5: boolean;
  /** Keys per core LIST request. */
  readonly pageSize: number;
  /** HEADs at once. */
  readonly concurrency: number;
  /** The core refused the listing (no s3:ListBucket): that target's pass sends everything. */
  readonly onListingRefused?: (target: AdoptionTarget, error: TributaryError) => void;
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

/** What the core's listing says about its copy of `object`: the same bytes, other bytes, or only a HEAD can tell. */
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

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The SHA-256 a core copy's lineage vouches for when the HEAD shows it holds `object`, else
 * undefined: it names this site, source bucket, key and ETag, stored as it is (not encoded), of
 * the same size, with a SHA-256, and a plain-MD5 ETag (if it has one) does not show other bytes.
 */
export function headProof(head: LakeHead | undefined, object: SourceObject, site: string): string | undefined {
  if (head === undefined || head.size !== object.size) return undefined;
  const lineage = head.metadata;
  if (
    lineage[META.site] !== site ||
    lineage[META.sourceBucket] !== object.bucket ||
    lineage[META.sourceKey] !== encodeURIComponent(object.key) ||
    lineage[META.sourceEtag] !== object.etag ||
    (lineage[META.encoding] !== undefined && lineage[META.encoding] !== 'identity')
  ) {
    return undefined;
  }
  const sha256 = lineage[META.sha256];
  if (sha256 === undefined || !SHA256_HEX.test(sha256)) return undefined;
  if (isPlainMd5Etag(object.etag) && etagContradicts(head, object.etag.toLowerCase())) return undefined;
  return sha256;
}

export function createAdoption(deps: AdoptionDeps): Adoption {
  const { journal, lake } = deps;
  const listedByThisProcess = new Set<string>();
  const id = (target: AdoptionTarget) => JSON.stringify([target.name, target.prefix]);

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

  return {
    async begin(target, pass, signal) {
      if (pass === 'first') journal.startAdoption(target.name, target.prefix);
      else if (!journal.isAdopting(target.name, target.prefix)) return false;
      else if (pass === 'again') {
        // A pass completed, but the process stopped before it said so here.
        journal.finishAdoption(target.name, target.prefix);
        return false;
      }
      if (listedByThisProcess.has(id(target))) return true;
      try {
        await listCore(target, signal);
      } catch (error) {
        const err = coerceError(error);
        // Unreachable, throttled, failing: the pass waits for the core (the scan fails and is
        // tried again). Nothing could be sent meanwhile anyway, and what a pass without the
        // listing queued would be sent again once the core is back: the waste adoption prevents.
        if (err.errorClass !== 'permanent') {
          throw new TributaryError(
            err.code,
            `${err.message} (the first scan pass of ${target.name}/${target.prefix} lists what the core already holds before it journals anything: it waits for the core)`,
            { cause: err, ...(err.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: err.retryAfterSeconds }) },
          );
        }
        journal.finishAdoption(target.name, target.prefix);
        deps.onListingRefused?.(target, err);
        return false;
      }
      listedByThisProcess.add(id(target));
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
        const proof = listingProof(object, listed, deps.coreEtagsFromMd5);
        if (proof === 'same') {
          adopted.push({ object, priority: decision.priority, coreKey, coreEtag: listed.etag, coreSize: listed.size, sha256: null });
        } else if (proof === 'ask') {
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
        adopted.push({ object, priority, coreKey, coreEtag: head.etag ?? listed.etag, coreSize: head.size, sha256 });
      });
      return journal.adopt(adopted);
    },

    finish(target) {
      journal.finishAdoption(target.name, target.prefix);
      listedByThisProcess.delete(id(target));
    },
  };
}
