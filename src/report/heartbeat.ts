/**
 * The heartbeat an agent writes to `_tributary/sites/<site>/heartbeat.json` in the core: what the
 * fleet view reads (the core never dials in to the edge). Versioned by `schema`; fields are added,
 * never renamed. It holds no secret, no endpoint and no path of the agent's machine.
 */
import type { Outage } from '../observability/outages.js';
import type { RecentSummary } from '../observability/recent-landings.js';
import type { BacklogSummary } from './status-report.js';

export const HEARTBEAT_SCHEMA = 'tributary.heartbeat/v1';

export interface HeartbeatV1 {
  readonly schema: typeof HEARTBEAT_SCHEMA;
  readonly site: string;
  readonly agentVersion: string;
  readonly startedAt: string;
  readonly writtenAt: string;
  /** `running`, or `stopped` in the last heartbeat of a clean shutdown (and after every `sync --once`). */
  readonly state: 'running' | 'stopped';
  /**
   * How the site runs: `agent` (the daemon), or `once` (`sync --once`, usually from cron; it writes
   * one heartbeat at the end of each run, and `intervalSeconds` is then its `heartbeat.interval`,
   * set to the time between runs). Absent in heartbeats of agents before 0.1.0: `agent`.
   */
  readonly mode?: 'agent' | 'once';
  readonly intervalSeconds: number;
  readonly backlog: BacklogSummary;
  readonly oldestPendingAgeSeconds: number | null;
  readonly lag: {
    readonly windowSeconds: number;
    readonly samples: number;
    readonly p50Seconds: number | null;
    readonly p99Seconds: number | null;
  };
  readonly throughput: { readonly windowSeconds: number; readonly objectsPerSecond: number; readonly bytesPerSecond: number };
  readonly reachable: { readonly edge: boolean; readonly core: boolean };
  /** The outage in progress (an endpoint unreachable), or null. */
  readonly outage: { readonly side: string; readonly since: string; readonly seconds: number } | null;
  /** The last outage that ended, or null. */
  readonly lastOutage: { readonly side: string; readonly startedAt: string; readonly endedAt: string; readonly seconds: number } | null;
  /** Free bytes on the file system of the journal, or null when it cannot be read. */
  readonly journalFreeBytes: number | null;
}

export interface HeartbeatInput {
  readonly site: string;
  readonly agentVersion: string;
  readonly startedAt: number;
  readonly now: number;
  readonly state: HeartbeatV1['state'];
  readonly mode: NonNullable<HeartbeatV1['mode']>;
  readonly intervalMs: number;
  readonly backlog: BacklogSummary;
  readonly oldestPendingSince: number | undefined;
  readonly recent: RecentSummary;
  readonly reachable: HeartbeatV1['reachable'];
  readonly outage: Outage | undefined;
  readonly lastOutage: Outage | undefined;
  readonly journalFreeBytes: number | null;
}

export function buildHeartbeat(input: HeartbeatInput): HeartbeatV1 {
  const window = input.recent.windowSeconds;
  // Over the window, or over the time since start when the agent is younger than the window.
  const seconds = Math.max(1, Math.min(window, (input.now - input.startedAt) / 1000));
  return {
    schema: HEARTBEAT_SCHEMA,
    site: input.site,
    agentVersion: input.agentVersion,
    startedAt: new Date(input.startedAt).toISOString(),
    writtenAt: new Date(input.now).toISOString(),
    state: input.state,
    mode: input.mode,
    intervalSeconds: input.intervalMs / 1000,
    backlog: input.backlog,
    oldestPendingAgeSeconds: input.oldestPendingSince === undefined ? null : Math.max(0, (input.now - input.oldestPendingSince) / 1000),
    lag: {
      windowSeconds: window,
      samples: input.recent.objects,
      p50Seconds: input.recent.lagP50Seconds,
      p99Seconds: input.recent.lagP99Seconds,
    },
    throughput: { windowSeconds: window, objectsPerSecond: input.recent.objects / seconds, bytesPerSecond: input.recent.bytes / seconds },
    reachable: input.reachable,
    outage:
      input.outage === undefined
        ? null
        : {
            side: input.outage.side,
            since: new Date(input.outage.startedAt).toISOString(),
            seconds: (input.now - input.outage.startedAt) / 1000,
          },
    lastOutage:
      input.lastOutage?.endedAt === undefined
        ? null
        : {
            side: input.lastOutage.side,
            startedAt: new Date(input.lastOutage.startedAt).toISOString(),
            endedAt: new Date(input.lastOutage.endedAt).toISOString(),
            seconds: (input.lastOutage.endedAt - input.lastOutage.startedAt) / 1000,
          },
    journalFreeBytes: input.journalFreeBytes,
  };
}
