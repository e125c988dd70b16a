/**
 * Edge retention: frees space at the edge once an object is safely in the core. An edge object is
 * deleted only when all of these hold, checked in this order, each time:
 *   1. its journal row is `done` and its retention period (per rule, else global) has passed since
 *      it landed and since its Last-Modified;
 *   2. it is the latest version the journal knows of the key;
 *   3. a HEAD of its core copy shows the recorded size, ETag and SHA-256 (lineage metadata); for
 *      a version adopted from the core by its plain-MD5 ETag before migration 0015 (no SHA-256
 *      recorded), that ETag, which is the edge version's;
 *   4. a HEAD at the edge shows that same version (ETag, size, Last-Modified) still there;
 * then the row is marked `deleting` in a commit synced to disk (still done, still the latest
 * version), and only then is the DELETE sent, conditional on the ETag (If-Match) for servers
 * that honour it. The marker keeps deletion propagation from taking retention's deletion for a
 * user's, even across a power loss.
 * A missing core copy puts the object back in the queue (the edge still has it: replicate it
 * again); a different one holds it at the edge and is looked at again later. Anything else that
 * goes wrong leaves the object where it is until the next round.
 */
import { setImmediate } from 'node:timers/promises';

import { coerceError, type TributaryError } from '../core/errors.js';
import { forEachConcurrently } from '../core/for-each-concurrently.js';
import { decide, type Rule } from '../core/rules.js';
import type { Clock } from '../ports/clock.js';
import type { Journal, RetentionCandidate, RetentionOutcome } from '../ports/journal.js';
import type { LakeHead, LakeStore } from '../ports/lake-store.js';
import type { SourceStore } from '../ports/source-store.js';
import { META } from '../land/lineage.js';
import { isPlainMd5Etag } from './read-and-hash.js';

/** Who decides how long an edge object stays after it landed. */
export interface RetentionPolicy {
  /** Identifies the policy: a change re-plans every object. */
  readonly id: string;
  /** The period for this object in ms, or null when it stays at the edge. */
  periodFor(bucket: string, key: string): number | null;
}

export interface RetentionSettings {
  readonly deleteFromEdgeAfter: number | null;
}

/** The policy of a config, or undefined when nothing is ever deleted from the edge. */
export function retentionPolicy(global: RetentionSettings, rules: readonly Rule[]): RetentionPolicy | undefined {
  const anyPeriod =
    global.deleteFromEdgeAfter !== null || rules.some((r) => r.retention !== undefined && r.retention.deleteFromEdgeAfter !== null);
  if (!anyPeriod) return undefined;
  return {
    id: JSON.stringify({
      global: global.deleteFromEdgeAfter,
      rules: rules.map((r) => [r.match, r.exclude === true, r.retention?.deleteFromEdgeAfter ?? 'global']),
    }),
    periodFor(bucket, key) {
      const { rule } = decide(rules, bucket, key);
      const own = rule >= 0 ? rules[rule]!.retention : undefined;
      return own === undefined ? global.deleteFromEdgeAfter : own.deleteFromEdgeAfter;
    },
  };
}

export interface RetentionRound {
  readonly deleted: number;
  readonly deletedBytes: number;
  readonly held: number;
  readonly kept: number;
  readonly requeued: number;
  readonly postponed: number;
  /** Postponed because the edge refused (access denied, an unsupported request): not transient. */
  readonly refusals: number;
  /** Set when the round stopped early: an endpoint is unreachable or throttling. */
  readonly stoppedBy?: TributaryError;
}

export interface RetentionDeps {
  readonly journal: Journal;
  readonly source: SourceStore;
  readonly lake: LakeStore;
  readonly policy: RetentionPolicy;
  readonly clock: Clock;
  /** Objects checked at once (each is up to three requests). */
  readonly concurrency: number;
  /** When a postponed object is looked at again. */
  readonly retryAfterMs: number;
  /** A core copy that differs is looked at again after this long. */
  readonly holdRecheckMs?: number;
  readonly onOutcome?: (outcome: 'deleted' | 'held' | 'kept' | 'requeued' | 'postponed', candidate: RetentionCandidate) => void;
}

const PAGE = 256;
const PLAN_PAGE = 1000;
const DEFAULT_HOLD_RECHECK_MS = 24 * 60 * 60_000;

type Check = RetentionOutcome | { readonly outcome: 'requeued'; readonly note: string } | { readonly outcome: 'ready' };

/**
 * For a version adopted from the core by its ETag before migration 0015 (no SHA-256 recorded; an
 * adoption records one now): the core copy still shows
 * the recorded plain-MD5 ETag, derived from the bytes, and that MD5 is the edge version's ETag.
 */
function adoptedByMd5Holds(c: RetentionCandidate, core: LakeHead): boolean {
  return (
    c.coreEtag !== null &&
    isPlainMd5Etag(c.coreEtag) &&
    c.coreEtag.toLowerCase() === c.etag.toLowerCase() &&
    core.etagFromMd5 &&
    core.etag?.toLowerCase() === c.coreEtag.toLowerCase()
  );
}

/**
 * The checks for one candidate, without deleting anything. The core is asked first and the edge
 * last, so that the edge's answer is as fresh as can be when the DELETE follows. Errors propagate:
 * the caller postpones.
 */
async function check(deps: RetentionDeps, c: RetentionCandidate, signal: AbortSignal | undefined): Promise<Check> {
  const { source, lake, clock } = deps;
  if (!c.latest) return { outcome: 'kept', note: 'a newer version of the key was seen at the edge' };
  const core = await lake.head(c.coreKey, { signal });
  if (core === undefined) return { outcome: 'requeued', note: `core copy ${c.coreKey} is missing while the edge still has the object` };
  const coreSha = core.metadata[META.sha256];
  const etagDiffers = c.coreEtag !== null && core.etag !== undefined && core.etag !== c.coreEtag;
  if (core.size !== c.coreSize || etagDiffers || !(c.sha256 === null ? adoptedByMd5Holds(c, core) : coreSha === c.sha256)) {
    return {
      outcome: 'held',
      note: `the core copy differs from the replicated version (size ${core.size}, ETag ${core.etag ?? 'none'}, SHA-256 ${coreSha ?? 'none'}; landed ${c.coreSize}, ${c.coreEtag ?? 'none'}, ${c.sha256 ?? 'none'})`,
      recheckAt: clock.now() + (deps.holdRecheckMs ?? DEFAULT_HOLD_RECHECK_MS),
    };
  }
  const edge = await source.head(c, { signal }).catch((error: unknown) => {
    if (coerceError(error).code === 'TRIB_ERR_SOURCE_GONE') return undefined;
    throw error;
  });
  if (edge === undefined) {
    // After our own DELETE (a crash or a failure came before it was recorded) it is ours; else
    // someone deleted it, and deletes: propagate may act on that.
    return c.deleting
      ? { outcome: 'deleted', note: 'deleted from the edge' }
      : { outcome: 'kept', note: 'gone from the edge before retention deleted it' };
  }
  // Last-Modified comes in whole seconds in a HEAD, with milliseconds in a listing.
  const sameTime = Math.floor(edge.mtime.getTime() / 1000) === Math.floor(c.mtimeMs / 1000);
  if (edge.etag !== c.etag || edge.size !== c.size || !sameTime) {
    return { outcome: 'kept', note: `the edge holds another version now (ETag ${edge.etag}, landed ${c.etag})` };
  }
  return { outcome: 'ready' };
}

/** The conditional DELETE of a checked, durably marked candidate. */
async function deleteFromEdge(deps: RetentionDeps, c: RetentionCandidate, signal: AbortSignal | undefined): Promise<RetentionOutcome> {
  try {
    await deps.source.delete(c, { signal });
  } catch (error) {
    const err = coerceError(error);
    if (err.code === 'TRIB_ERR_SOURCE_CHANGED') {
      deps.journal.clearEdgeDeleting(c.id);
      return { outcome: 'kept', note: 'the edge refused the conditional DELETE: the object changed' };
    }
    // A refusal (access denied, a request the server does not support, credentials refused, a
    // TLS handshake that failed, an endpoint that is no S3) certainly deleted nothing: the object
    // is no longer 'deleting', so a user's deletion of it still propagates. After a lost answer (a
    // timeout, a reset, a 5xx) the DELETE may have happened: it stays 'deleting'.
    const refused = err.errorClass === 'permanent' || err.errorClass === 'fatal' || /_(AUTH|TLS|NOT_S3)$/.test(err.code);
    if (refused) deps.journal.clearEdgeDeleting(c.id);
    throw err;
  }
  return { outcome: 'deleted', note: 'deleted from the edge' };
}

/** One round: plans new landings, then checks and deletes everything due now. */
export async function runRetentionRound(deps: RetentionDeps, signal?: AbortSignal): Promise<RetentionRound> {
  const { journal, policy, clock } = deps;
  const counts = { deleted: 0, deletedBytes: 0, held: 0, kept: 0, requeued: 0, postponed: 0 };
  let stoppedBy: TributaryError | undefined;
  let refusals = 0;

  // A page at a time, yielding in between: millions of landings must not hold the event loop.
  const plan = (o: { bucket: string; key: string; mtimeMs: number; landedAt: number }) => {
    const period = policy.periodFor(o.bucket, o.key);
    return period === null ? null : Math.max(o.landedAt, o.mtimeMs) + period;
  };
  while (journal.planEdgeRetention(policy.id, plan, PLAN_PAGE) > 0) {
    signal?.throwIfAborted();
    await setImmediate();
  }

  const record = (c: RetentionCandidate, result: RetentionOutcome | { readonly outcome: 'requeued'; readonly note: string }) => {
    if (result.outcome === 'requeued') journal.requeueMissing(c.id, 'TRIB_ERR_CORE_COPY_MISSING', result.note);
    else journal.recordEdgeRetention(c.id, result);
    if (result.outcome === 'deleted') counts.deletedBytes += c.size;
    counts[result.outcome] += 1;
    deps.onOutcome?.(result.outcome, c);
  };
  const postpone = (c: RetentionCandidate, error: unknown) => {
    const err = coerceError(error);
    if (err.errorClass === 'cancelled') throw err;
    if (err.errorClass === 'unreachable' || err.errorClass === 'throttled' || err.errorClass === 'fatal') stoppedBy ??= err;
    if (err.errorClass === 'permanent') refusals += 1;
    record(c, { outcome: 'postponed', note: `${err.code}: ${err.message}`, recheckAt: clock.now() + deps.retryAfterMs });
  };
  // Every outcome moves a candidate out of "due at `now`"; an endpoint that fails ends the round
  // (what is left stays due for the next one).
  const now = clock.now();
  while (stoppedBy === undefined) {
    signal?.throwIfAborted();
    const page = journal.dueForEdgeDeletion(now, PAGE);
    if (page.length === 0) break;
    for (let start = 0; start < page.length && stoppedBy === undefined; start += deps.concurrency) {
      const chunk = page.slice(start, start + deps.concurrency);
      const ready: RetentionCandidate[] = [];
      await forEachConcurrently(chunk, deps.concurrency, async (c) => {
        if (stoppedBy !== undefined) return;
        try {
          const result = await check(deps, c, signal);
          if (result.outcome === 'ready') ready.push(c);
          else record(c, result);
        } catch (error) {
          postpone(c, error);
        }
      });
      if (ready.length === 0 || stoppedBy !== undefined) continue;
      // On disk before any of these DELETEs goes out; a key written again since is not marked.
      const marked = new Set(journal.markEdgeDeleting(ready.map((c) => c.id)));
      for (const c of ready) if (!marked.has(c.id)) record(c, { outcome: 'kept', note: 'a newer version of the key was seen at the edge' });
      await forEachConcurrently(
        ready.filter((c) => marked.has(c.id)),
        deps.concurrency,
        async (c) => {
          try {
            record(c, await deleteFromEdge(deps, c, signal));
          } catch (error) {
            postpone(c, error);
          }
        },
      );
    }
  }
  return { ...counts, refusals, ...(stoppedBy === undefined ? {} : { stoppedBy }) };
}
