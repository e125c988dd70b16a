/**
 * Edge retention: frees space at the edge once an object is safely in the core. An edge object is
 * deleted only when all of these hold, checked in this order, each time:
 *   1. its journal row is `done` and its retention period (per rule, else global) has passed since
 *      it landed and since its Last-Modified;
 *   2. it is the latest version the journal knows of the key;
 *   3. a HEAD at the edge shows that same version (ETag and size) still there;
 *   4. a HEAD of its core copy shows the recorded size and SHA-256 (lineage metadata);
 * and the DELETE is conditional on the ETag (If-Match) for servers that honour it.
 * A missing core copy puts the object back in the queue (the edge still has it: replicate it
 * again); a different one holds it at the edge and is looked at again later. Anything else that
 * goes wrong leaves the object where it is until the next round.
 */
import { coerceError, type TributaryError } from '../core/errors.js';
import { decide, type Rule } from '../core/rules.js';
import type { Clock } from '../ports/clock.js';
import type { Journal, RetentionCandidate, RetentionOutcome } from '../ports/journal.js';
import type { LakeStore } from '../ports/lake-store.js';
import type { SourceStore } from '../ports/source-store.js';
import { META } from './lineage.js';

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
  const anyPeriod = global.deleteFromEdgeAfter !== null || rules.some((r) => r.retention !== undefined && r.retention.deleteFromEdgeAfter !== null);
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
  readonly onOutcome?: (outcome: keyof Omit<RetentionRound, 'stoppedBy' | 'deletedBytes'>, candidate: RetentionCandidate) => void;
}

const PAGE = 256;
const DEFAULT_HOLD_RECHECK_MS = 24 * 60 * 60_000;

type Decision = RetentionOutcome | { readonly outcome: 'requeued'; readonly note: string };

/** The checks and the DELETE for one candidate. Errors propagate: the caller postpones. */
async function expireOne(deps: RetentionDeps, c: RetentionCandidate, signal: AbortSignal | undefined): Promise<Decision> {
  const { source, lake, journal, clock } = deps;
  if (!c.latest) return { outcome: 'kept', note: 'a newer version of the key was seen at the edge' };
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
  if (edge.etag !== c.etag || edge.size !== c.size) {
    return { outcome: 'kept', note: `the edge holds another version now (ETag ${edge.etag}, landed ${c.etag})` };
  }
  const core = await lake.head(c.coreKey, { signal });
  if (core === undefined) return { outcome: 'requeued', note: `core copy ${c.coreKey} is missing while the edge still has the object` };
  const coreSha = core.metadata[META.sha256];
  if (core.size !== c.coreSize || coreSha !== c.sha256) {
    return {
      outcome: 'held',
      note: `the core copy differs from the replicated version (size ${core.size}, SHA-256 ${coreSha ?? 'none'}; landed ${c.coreSize}, ${c.sha256})`,
      recheckAt: clock.now() + (deps.holdRecheckMs ?? DEFAULT_HOLD_RECHECK_MS),
    };
  }
  journal.markEdgeDeleting(c.id);
  try {
    await source.delete(c, { signal });
  } catch (error) {
    if (coerceError(error).code === 'TRIB_ERR_SOURCE_CHANGED') {
      return { outcome: 'kept', note: 'the edge refused the conditional DELETE: the object changed' };
    }
    throw error;
  }
  return { outcome: 'deleted', note: 'deleted from the edge' };
}

/** One round: plans new landings, then checks and deletes everything due now. */
export async function runRetentionRound(deps: RetentionDeps, signal?: AbortSignal): Promise<RetentionRound> {
  const { journal, policy, clock } = deps;
  const counts = { deleted: 0, deletedBytes: 0, held: 0, kept: 0, requeued: 0, postponed: 0 };
  let stoppedBy: TributaryError | undefined;

  journal.planEdgeRetention(policy.id, (o) => {
    const period = policy.periodFor(o.bucket, o.key);
    return period === null ? null : Math.max(o.landedAt, o.mtimeMs) + period;
  });

  const now = clock.now();
  const handle = async (c: RetentionCandidate): Promise<void> => {
    if (stoppedBy !== undefined) return postpone(c, stoppedBy.message);
    let decision: Decision;
    try {
      decision = await expireOne(deps, c, signal);
    } catch (error) {
      const err = coerceError(error);
      if (err.errorClass === 'cancelled') throw err;
      if (err.errorClass === 'unreachable' || err.errorClass === 'throttled' || err.errorClass === 'fatal') stoppedBy ??= err;
      return postpone(c, `${err.code}: ${err.message}`);
    }
    if (decision.outcome === 'requeued') {
      journal.requeueMissing(c.id, 'TRIB_ERR_CORE_COPY_MISSING', decision.note);
    } else {
      journal.recordEdgeRetention(c.id, decision);
    }
    if (decision.outcome === 'deleted') counts.deletedBytes += c.size;
    if (decision.outcome !== 'postponed') {
      counts[decision.outcome] += 1;
      deps.onOutcome?.(decision.outcome, c);
    }
  };
  const postpone = (c: RetentionCandidate, note: string): void => {
    journal.recordEdgeRetention(c.id, { outcome: 'postponed', note, recheckAt: clock.now() + deps.retryAfterMs });
    counts.postponed += 1;
    deps.onOutcome?.('postponed', c);
  };

  // Every outcome moves a candidate out of "due at `now`", so this loop ends.
  for (;;) {
    signal?.throwIfAborted();
    const page = journal.dueForEdgeDeletion(now, PAGE);
    if (page.length === 0) break;
    let next = 0;
    const worker = async () => {
      while (next < page.length) await handle(page[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(deps.concurrency, page.length) }, worker));
  }
  return { ...counts, ...(stoppedBy === undefined ? {} : { stoppedBy }) };
}
