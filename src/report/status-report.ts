/**
 * The status of one agent, read from its journal: whether each endpoint serves it (as the agent
 * last recorded it), backlog by state and priority (objects and bytes), the oldest pending age,
 * what landed lately (rate, lag), the latest errors (identical ones grouped), the objects that
 * vanished or were forgotten, re-landings, and what edge retention did. `tributary status` prints
 * it and the agent serves it as JSON on /status.
 */
import { priorityName, type LandingReason, type SettledState } from '../core/object-state.js';
import type {
  BacklogRow,
  EndpointHealthRecord,
  ErrorGroup,
  ForgottenGroup,
  Journal,
  RetentionCounts,
  StateCount,
  VanishedObject,
} from '../ports/journal.js';

export interface BacklogSummary {
  readonly pendingObjects: number;
  readonly pendingBytes: number;
  readonly failedObjects: number;
  readonly deadObjects: number;
  /** Deleted at the edge before they could be read: terminal, neither pending nor failed nor dead. */
  readonly vanishedObjects: number;
  /** Dead objects the operator acknowledged with `tributary forget`: no longer dead. */
  readonly forgottenObjects: number;
}

export function summarizeBacklog(rows: readonly BacklogRow[], settled: Readonly<Record<SettledState, StateCount>>): BacklogSummary {
  let pendingObjects = 0;
  let pendingBytes = 0;
  let failedObjects = 0;
  let deadObjects = 0;
  for (const row of rows) {
    if (row.state === 'dead') deadObjects += row.objects;
    else if (row.state === 'failed') failedObjects += row.objects;
    else {
      pendingObjects += row.objects;
      pendingBytes += row.bytes;
    }
    if (row.state === 'failed') pendingBytes += row.bytes;
  }
  return {
    pendingObjects,
    pendingBytes,
    failedObjects,
    deadObjects,
    vanishedObjects: settled.vanished.objects,
    forgottenObjects: settled.forgotten.objects,
  };
}

/** The backlog summary of a journal now (status, heartbeat, `sync --once`). */
export function backlogOf(journal: Pick<Journal, 'backlog' | 'settledCounts'>): BacklogSummary {
  return summarizeBacklog(journal.backlog(), journal.settledCounts());
}

/** What landed in a recent window: throughput and how far behind the edge the landings were. */
export interface RecentLandings {
  readonly windowSeconds: number;
  readonly objects: number;
  readonly bytes: number;
  readonly bytesPerSecond: number;
  /** First seen at the edge to landed in the core, in seconds; null when nothing landed. */
  readonly lagSeconds: { readonly p50: number | null; readonly p99: number | null; readonly max: number | null };
}

const LANDING_WINDOWS_SECONDS = [5 * 60, 60 * 60] as const;

function recentLandings(journal: Journal, now: number, windowSeconds: number): RecentLandings {
  const stats = journal.landedSince(now - windowSeconds * 1000);
  const seconds = (ms: number | null) => (ms === null ? null : Math.max(0, ms) / 1000);
  return {
    windowSeconds,
    objects: stats.objects,
    bytes: stats.bytes,
    bytesPerSecond: stats.bytes / windowSeconds,
    lagSeconds: { p50: seconds(stats.lagP50Ms), p99: seconds(stats.lagP99Ms), max: seconds(stats.lagMaxMs) },
  };
}

/** One endpoint's health as the agent recorded it (times in ms since the epoch). */
export interface EndpointStatus {
  readonly reachable: boolean;
  readonly since: number;
  readonly reason: string | null;
  readonly detail: string | null;
  readonly checkedAt: number;
}

function endpointStatus(record: EndpointHealthRecord | undefined): EndpointStatus | null {
  if (record === undefined) return null;
  return {
    reachable: record.reachable,
    since: record.since,
    reason: record.reason ?? null,
    detail: record.detail ?? null,
    checkedAt: record.checkedAt,
  };
}

export interface StatusReport {
  readonly site: string;
  /** Whether each endpoint serves the agent, as it last recorded it; null before any agent ran. */
  readonly endpoints: { readonly edge: EndpointStatus | null; readonly core: EndpointStatus | null };
  readonly backlog: readonly { state: string; priority: string; objects: number; bytes: number }[];
  readonly totals: BacklogSummary;
  readonly oldestPendingAgeSeconds: number | null;
  /** Landings of the last 5 minutes and of the last hour. */
  readonly landed: readonly RecentLandings[];
  readonly recentErrors: readonly {
    bucket: string;
    key: string;
    state: string;
    attempts: number;
    code: string | null;
    error: string | null;
  }[];
  /**
   * The latest errors with identical ones grouped: the same state, code and message once each
   * object's own key is taken out of it (`…`), with how many objects, the latest time (ms) and a few of them.
   */
  readonly errorGroups: readonly ErrorGroup[];
  /** Deleted at the edge before they could be read: how many, and the latest with when they were first seen and vanished (ms). */
  readonly vanished: StateCount & { readonly latest: readonly VanishedObject[] };
  /** Dead objects acknowledged by `tributary forget`: how many, and by reason. */
  readonly forgotten: StateCount & { readonly reasons: readonly ForgottenGroup[] };
  /** Landings made for a reason, by whichever process: `repair` (verify --repair), `core-copy-missing` (edge retention). */
  readonly relandings: Readonly<Record<LandingReason, number>>;
  /** With edge retention configured: what it deleted, holds and keeps, and the held objects. */
  readonly edgeRetention?: RetentionCounts & { readonly heldObjects: readonly { bucket: string; key: string; note: string }[] };
  /**
   * Core keys where an attempt found a wrong copy of ours and could not delete it: the next upload
   * of that version replaces it, but a dead or superseded one leaves it in the lake.
   */
  readonly suspectCoreCopies: ReturnType<Journal['suspectCoreCopies']>;
}

export function buildStatus(site: string, journal: Journal, now: number, options: { readonly edgeRetention?: boolean } = {}): StatusReport {
  const rows = journal.backlog();
  const settled = journal.settledCounts();
  const oldest = journal.oldestPendingSince();
  return {
    site,
    endpoints: { edge: endpointStatus(journal.endpointHealth('edge')), core: endpointStatus(journal.endpointHealth('core')) },
    backlog: rows.map((r) => ({ state: r.state, priority: priorityName(r.priority), objects: r.objects, bytes: r.bytes })),
    totals: summarizeBacklog(rows, settled),
    oldestPendingAgeSeconds: oldest === undefined ? null : Math.max(0, (now - oldest) / 1000),
    landed: LANDING_WINDOWS_SECONDS.map((window) => recentLandings(journal, now, window)),
    recentErrors: journal.recentErrors(10).map((o) => ({
      bucket: o.bucket,
      key: o.key,
      state: o.state,
      attempts: o.attempts,
      code: o.lastErrorCode,
      error: o.lastError,
    })),
    errorGroups: journal.errorGroups(10, 3),
    vanished: { ...settled.vanished, latest: journal.latestVanished(5) },
    forgotten: { ...settled.forgotten, reasons: journal.forgottenByReason(5, 3) },
    relandings: journal.relandings(),
    suspectCoreCopies: journal.suspectCoreCopies(10),
    ...(options.edgeRetention === true ? { edgeRetention: { ...journal.edgeRetentionCounts(), heldObjects: journal.heldOnEdge(10) } } : {}),
  };
}
