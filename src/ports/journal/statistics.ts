/** Read-only aggregates of the journal for `status`, /metrics and the heartbeat. */
import type { LandingReason, ObjectState, SettledState } from '../../core/object-state.js';
import type { JournalObject } from './objects.js';

export interface BacklogRow {
  readonly state: ObjectState;
  readonly priority: number;
  readonly objects: number;
  readonly bytes: number;
}

export interface LandingStats {
  readonly objects: number;
  readonly bytes: number;
  /** Milliseconds from first seen at the edge to landed; null when nothing landed. */
  readonly lagP50Ms: number | null;
  readonly lagP99Ms: number | null;
  readonly lagMaxMs: number | null;
}

export interface StateCount {
  readonly objects: number;
  readonly bytes: number;
}

/** A version deleted at the edge before it could be read. Times in ms since the epoch. */
export interface VanishedObject {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly firstSeenAt: number;
  readonly vanishedAt: number;
}

/** Forgotten objects with one reason: how many, the latest, and a few of them with the error they died of. */
export interface ForgottenGroup {
  readonly reason: string;
  readonly objects: number;
  readonly bytes: number;
  readonly latestAt: number;
  readonly examples: readonly { readonly bucket: string; readonly key: string; readonly code: string | null }[];
}

/**
 * Objects failing the same way: the same state, code and message once the object's own key is
 * taken out of it (`…` stands for it), with how many, the latest time, and a few of their keys.
 */
export interface ErrorGroup {
  readonly state: ObjectState;
  readonly code: string;
  readonly message: string;
  readonly objects: number;
  readonly latestAt: number;
  /** The newest of them, with their attempts and their own message. */
  readonly examples: readonly { readonly bucket: string; readonly key: string; readonly attempts: number; readonly error: string | null }[];
}

export interface StatisticsJournal {
  backlog(): BacklogRow[];
  oldestPendingSince(): number | undefined;
  /** What landed since `since` (ms): how many, how many bytes, and the lag (first seen to landed) at a few percentiles. */
  landedSince(since: number): LandingStats;
  recentErrors(limit: number): JournalObject[];
  /** The latest `limit` groups of identical errors (see ErrorGroup), newest first, `examples` keys each. */
  errorGroups(limit: number, examples: number): ErrorGroup[];
  /** Versions that never landed and are no failure: vanished and forgotten. */
  settledCounts(): Readonly<Record<SettledState, StateCount>>;
  /** The latest vanished versions, newest first. */
  latestVanished(limit: number): VanishedObject[];
  /** Forgotten versions by reason, the latest reasons first, `examples` of each. */
  forgottenByReason(limit: number, examples: number): ForgottenGroup[];
  /** Landings made for each reason (re-landings, repairs), counted in the journal by whichever process landed them. */
  relandings(): Readonly<Record<LandingReason, number>>;
}
