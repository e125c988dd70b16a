/**
 * The heartbeat an agent writes to `_tributary/sites/<site>/heartbeat.json` in the core: what the
 * fleet view reads (the core never dials in to the edge). Versioned by `schema`; fields are added,
 * never renamed. It holds no secret, no endpoint and no path of the agent's machine.
 */
import type { LandingReason } from '../core/object-state.js';
import type { Side } from '../core/side.js';
import type { Outage } from '../observability/outages.js';
import type { EndpointHealthRecord } from '../ports/journal.js';
import type { RecentSummary } from '../observability/recent-landings.js';
import type { BacklogSummary } from './status-report.js';

export const HEARTBEAT_SCHEMA = 'tributary.heartbeat/v1';

/** The backlog a heartbeat carries: `vanishedObjects` and `forgottenObjects` are absent in heartbeats of earlier agents. */
export type HeartbeatBacklog = Omit<BacklogSummary, 'vanishedObjects' | 'forgottenObjects'> &
  Partial<Pick<BacklogSummary, 'vanishedObjects' | 'forgottenObjects'>>;

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
  readonly backlog: HeartbeatBacklog;
  readonly oldestPendingAgeSeconds: number | null;
  /**
   * Landings made for a reason, as the journal counts them (whichever process made them):
   * `repair` (queued by `verify --repair`), `core-copy-missing` (edge retention found the core copy
   * gone). Absent in heartbeats of earlier agents.
   */
  readonly relandings?: Readonly<Record<LandingReason, number>>;
  readonly lag: {
    readonly windowSeconds: number;
    readonly samples: number;
    readonly p50Seconds: number | null;
    readonly p99Seconds: number | null;
  };
  readonly throughput: { readonly windowSeconds: number; readonly objectsPerSecond: number; readonly bytesPerSecond: number };
  readonly reachable: { readonly edge: boolean; readonly core: boolean };
  /**
   * Each endpoint's health: since when it is (un)reachable, why, and the error that said so (any
   * endpoint address in it replaced by `<endpoint>`). Absent in heartbeats of earlier agents.
   */
  readonly endpoints?: { readonly edge: HeartbeatEndpoint; readonly core: HeartbeatEndpoint };
  /** The outage in progress (an endpoint unreachable; the earliest when both are), or null. */
  readonly outage: { readonly side: string; readonly since: string; readonly seconds: number } | null;
  /** The last outage that ended, or null. */
  readonly lastOutage: { readonly side: string; readonly startedAt: string; readonly endedAt: string; readonly seconds: number } | null;
  /** Free bytes on the file system of the journal, or null when it cannot be read. */
  readonly journalFreeBytes: number | null;
}

export interface HeartbeatEndpoint {
  readonly reachable: boolean;
  readonly since: string;
  /** `refused`, `reset`, `timeout`, `dns`, `network`, `tls`, `http-5xx`, `auth`, `not-s3`; null while reachable. */
  readonly reason: string | null;
  readonly detail: string | null;
  readonly checkedAt: string;
}

/**
 * `text` without the addresses of `endpoints` (URL, host:port, host) or any other IP address and
 * port: the heartbeat names no endpoint (it is read by whoever may read the core bucket).
 */
export function withoutEndpoints(text: string, endpoints: readonly string[]): string {
  let out = text;
  for (const endpoint of endpoints) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      continue;
    }
    // A bare host name of a few letters (`s3`) would also match words: only longer ones.
    const forms = [url.href.replace(/\/$/, ''), url.host, url.hostname].filter((form) => form.length > 3);
    for (const form of forms) out = out.split(form).join('<endpoint>');
  }
  return out
    .replace(/\bhttps?:\/\/[^\s'",;)]+/g, '<endpoint>')
    .replace(/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, '<endpoint>')
    .replace(/\[[0-9a-f:.]+\](?::\d+)?/gi, '<endpoint>');
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
  readonly relandings: Readonly<Record<LandingReason, number>>;
  readonly oldestPendingSince: number | undefined;
  readonly recent: RecentSummary;
  readonly endpoints: Readonly<Record<Side, EndpointHealthRecord>>;
  /** The endpoint URLs, kept out of the heartbeat's error details. */
  readonly endpointUrls: readonly string[];
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
    relandings: input.relandings,
    oldestPendingAgeSeconds: input.oldestPendingSince === undefined ? null : Math.max(0, (input.now - input.oldestPendingSince) / 1000),
    lag: {
      windowSeconds: window,
      samples: input.recent.objects,
      p50Seconds: input.recent.lagP50Seconds,
      p99Seconds: input.recent.lagP99Seconds,
    },
    throughput: { windowSeconds: window, objectsPerSecond: input.recent.objects / seconds, bytesPerSecond: input.recent.bytes / seconds },
    reachable: { edge: input.endpoints.edge.reachable, core: input.endpoints.core.reachable },
    endpoints: {
      edge: endpointView(input.endpoints.edge, input.endpointUrls),
      core: endpointView(input.endpoints.core, input.endpointUrls),
    },
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

function endpointView(record: EndpointHealthRecord, urls: readonly string[]): HeartbeatEndpoint {
  return {
    reachable: record.reachable,
    since: new Date(record.since).toISOString(),
    reason: record.reason ?? null,
    detail: record.detail === undefined ? null : withoutEndpoints(record.detail, urls),
    checkedAt: new Date(record.checkedAt).toISOString(),
  };
}
