/**
 * The fleet view's verdict on one site, from its heartbeat alone (pure):
 *   stopped  the agent was stopped cleanly: its last heartbeat says so (and what it left behind)
 *            (not for `sync --once` sites: every run ends so; their interval is the time between runs)
 *   stale    no heartbeat for three intervals (or an unreadable one): the agent may be down
 *   failing  objects are dead at the site
 *   lagging  the oldest pending object is older than `fleet.lagThreshold`
 *   healthy  none of the above
 * The worst applies, in that order: a stale heartbeat says nothing reliable about the rest.
 */
import type { HeartbeatV1 } from '../report/heartbeat.js';

export type SiteHealth = 'healthy' | 'lagging' | 'stale' | 'stopped' | 'failing';

export interface SiteRow {
  readonly site: string;
  readonly status: SiteHealth;
  readonly reason: string;
  readonly backlogObjects: number | null;
  readonly backlogBytes: number | null;
  readonly deadObjects: number | null;
  readonly oldestPendingSeconds: number | null;
  readonly lagP99Seconds: number | null;
  readonly objectsPerSecond: number | null;
  readonly bytesPerSecond: number | null;
  readonly lastSeenSecondsAgo: number | null;
  readonly state: string | null;
  readonly agentVersion: string | null;
}

export function classifySite(
  site: string,
  heartbeat: HeartbeatV1 | undefined,
  now: number,
  lagThresholdMs: number,
  problem?: string,
): SiteRow {
  if (heartbeat === undefined) {
    return {
      site,
      status: 'stale',
      reason: problem ?? 'no readable heartbeat',
      backlogObjects: null,
      backlogBytes: null,
      deadObjects: null,
      oldestPendingSeconds: null,
      lagP99Seconds: null,
      objectsPerSecond: null,
      bytesPerSecond: null,
      lastSeenSecondsAgo: null,
      state: null,
      agentVersion: null,
    };
  }
  const ageSeconds = Math.max(0, (now - Date.parse(heartbeat.writtenAt)) / 1000);
  const backlog = heartbeat.backlog;
  const base = {
    site,
    backlogObjects: backlog.pendingObjects + backlog.failedObjects,
    backlogBytes: backlog.pendingBytes,
    deadObjects: backlog.deadObjects,
    oldestPendingSeconds: heartbeat.oldestPendingAgeSeconds,
    lagP99Seconds: heartbeat.lag.p99Seconds,
    objectsPerSecond: heartbeat.throughput.objectsPerSecond,
    bytesPerSecond: heartbeat.throughput.bytesPerSecond,
    lastSeenSecondsAgo: ageSeconds,
    state: heartbeat.state,
    agentVersion: heartbeat.agentVersion,
  };
  const once = heartbeat.mode === 'once';
  // A stopped agent, or one not heard from, moves nothing now: no throughput is shown for it.
  const idle = { objectsPerSecond: null, bytesPerSecond: null };
  if (heartbeat.state === 'stopped' && !once) {
    const left = backlog.pendingObjects + backlog.failedObjects;
    return {
      ...base,
      ...idle,
      status: 'stopped',
      reason: `agent stopped ${Math.round(ageSeconds)}s ago${left > 0 ? `, ${left} objects pending` : ''}${backlog.deadObjects > 0 ? `, ${backlog.deadObjects} dead` : ''}`,
    };
  }
  const staleAfter = 3 * heartbeat.intervalSeconds;
  if (!Number.isFinite(ageSeconds) || ageSeconds > staleAfter) {
    return {
      ...base,
      ...idle,
      status: 'stale',
      reason: once
        ? `no sync --once run for ${Math.round(ageSeconds)}s (heartbeat.interval ${heartbeat.intervalSeconds}s)`
        : `no heartbeat for ${Math.round(ageSeconds)}s (interval ${heartbeat.intervalSeconds}s)`,
    };
  }
  if (backlog.deadObjects > 0) return { ...base, status: 'failing', reason: `${backlog.deadObjects} dead objects` };
  if (heartbeat.oldestPendingAgeSeconds !== null && heartbeat.oldestPendingAgeSeconds * 1000 > lagThresholdMs) {
    return {
      ...base,
      status: 'lagging',
      reason: `oldest pending ${Math.round(heartbeat.oldestPendingAgeSeconds)}s > ${lagThresholdMs / 1000}s`,
    };
  }
  return { ...base, status: 'healthy', reason: '' };
}
