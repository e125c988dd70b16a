/** Read-only aggregates of the journal for `status`, /metrics and the heartbeat. */
import type { ObjectState } from '../../core/object-state.js';
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

export interface StatisticsJournal {
  backlog(): BacklogRow[];
  oldestPendingSince(): number | undefined;
  /** What landed since `since` (ms): how many, how many bytes, and the lag (first seen to landed) at a few percentiles. */
  landedSince(since: number): LandingStats;
  recentErrors(limit: number): JournalObject[];
}
