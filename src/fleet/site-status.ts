/**
 * The fleet view's verdict on one site, from its heartbeat alone (pure):
 *   stopped   the agent was stopped cleanly: its last heartbeat says so (and what it left behind)
 *             (not for `sync --once` sites: every run ends so; their interval is the time between runs)
 *   stale     no heartbeat for three intervals (or an unreadable one): the agent may be down
 *   degraded  the agent runs, but an endpoint does not serve it (down, credentials refused, TLS,
 *             not S3): since when and why
 *   failing   objects are dead at the site (vanished and forgotten ones are not: they never make a
 *             site unhealthy)
 *   lagging   the oldest pending object is older than `fleet.lagThreshold`
 *   healthy   none of the above
 * The worst applies, in that order: a stale heartbeat says nothing reliable about the rest, and an
 * outage explains a backlog that grows or objects that wait. (A clean stop is checked before
 * staleness: a stopped agent's last heartbeat only gets older, and that is not news.)
 */
import type { HeartbeatV1 } from '../report/heartbeat.js';

export type SiteHealth = 'healthy' | 'lagging' | 'stale' | 'stopped' | 'degraded' | 'failing';

/** `2026-11-27T12:03:04Z`: an instant every site's operator reads the same way. */
function instant(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * `edge unreachable since 2026-11-27T12:03:04Z (refused)` for each endpoint the heartbeat holds for
 * unreachable; heartbeats of earlier agents say only `reachable`.
 */
/** A heartbeat is JSON from another agent: `false` only when it says so. */
const saysFalse = (value: unknown) => value === false;

function outages(heartbeat: HeartbeatV1): string[] {
  const notes: string[] = [];
  for (const side of ['edge', 'core'] as const) {
    const endpoint = heartbeat.endpoints?.[side];
    if (endpoint !== undefined && endpoint !== null && typeof endpoint === 'object') {
      if (saysFalse(endpoint.reachable))
        notes.push(`${side} unreachable since ${instant(endpoint.since)}${endpoint.reason === null ? '' : ` (${endpoint.reason})`}`);
    } else if (saysFalse(heartbeat.reachable?.[side])) {
      notes.push(`${side} unreachable`);
    }
  }
  return notes;
}

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
  const down = outages(heartbeat);
  if (down.length > 0) return { ...base, status: 'degraded', reason: down.join('; ') };
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
