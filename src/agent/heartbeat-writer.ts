/**
 * Writes the agent's heartbeat to the core every `heartbeat.interval`, at once when an endpoint
 * becomes unreachable or reachable again (`poke`), and once more with state `stopped` on a clean
 * shutdown; `sync --once` writes one (`mode: once`) at the end of its run. A heartbeat that cannot
 * be written (core unreachable) is logged and skipped: the next one carries the news; a fleet view
 * notices the gap as staleness. Each write is heard from the core, or a failure of it, for the
 * endpoint health record.
 */
import { createHash } from 'node:crypto';
import { statfsSync } from 'node:fs';

import { coerceError } from '../core/errors.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../ports/clock.js';
import { buildHeartbeat, type HeartbeatV1 } from '../report/heartbeat.js';
import { backlogOf } from '../report/status-report.js';
import { heartbeatKey, type Agent } from './build-agent.js';
import { AGENT_VERSION } from './version.js';

export interface HeartbeatWriter {
  /** Writes one now and then every interval. */
  start(): void;
  /** Writes one now (after the one in flight), if started: the news should not wait an interval. */
  poke(): void;
  /** Stops the timer and writes the final heartbeat. */
  stop(): Promise<void>;
  /** Stops the timer without a final heartbeat (an unclean stop). */
  cancel(): void;
}

function freeBytes(folder: string): number | null {
  try {
    const stats = statfsSync(folder);
    return stats.bavail * stats.bsize;
  } catch {
    return null;
  }
}

export function createHeartbeatWriter(
  agent: Agent,
  options: {
    readonly clock: Clock;
    readonly log: Logger;
    readonly mode?: NonNullable<HeartbeatV1['mode']>;
    /** When the run began (sync --once writes its one heartbeat at the end): rates are over the run. */
    readonly startedAt?: number;
  },
): HeartbeatWriter {
  const mode = options.mode ?? 'agent';
  const { config, journal, lake, recent, health } = agent;
  const endpointUrls = [config.edge.endpoint, config.core.endpoint].filter((url): url is string => url !== undefined);
  const startedAt = options.startedAt ?? options.clock.now();
  const intervalMs = config.heartbeat.interval;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  const snapshot = (state: HeartbeatV1['state']): HeartbeatV1 =>
    buildHeartbeat({
      site: config.site,
      agentVersion: AGENT_VERSION,
      startedAt,
      now: options.clock.now(),
      state,
      mode,
      intervalMs,
      backlog: backlogOf(journal),
      relandings: journal.relandings(),
      oldestPendingSince: journal.oldestPendingSince(),
      recent: recent.summary(),
      endpoints: { edge: health.state('edge'), core: health.state('core') },
      endpointUrls,
      outage: agent.outages.current(),
      lastOutage: agent.outages.last(),
      journalFreeBytes: freeBytes(config.journal),
    });

  let waiting = 0;
  const write = (state: HeartbeatV1['state']): Promise<void> => {
    // One write at a time, in order: a slow core never gets two heartbeats racing. And at most one
    // waits behind the one in flight: while the core hangs (an outage), the ticks do not pile up
    // into a burst of PUTs when it is back. The waiting one takes its snapshot when it runs.
    if (state === 'running' && waiting > 0) return writing;
    waiting += 1;
    writing = writing.then(async () => {
      waiting -= 1;
      const body = Buffer.from(`${JSON.stringify(snapshot(state), null, 2)}\n`);
      // A run of sync --once does not wait long for its one heartbeat at the end.
      const timeoutMs = mode === 'once' ? 10_000 : Math.max(5000, intervalMs);
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        await lake.put(heartbeatKey(config.site), body, {
          metadata: {},
          contentMd5: createHash('md5').update(body).digest('base64'),
          contentType: 'application/json',
          signal: timeout,
        });
        health.recordSuccess('core');
      } catch (error) {
        const err = coerceError(error);
        if (timeout.aborted) health.recordFailure('core', 'timeout', `heartbeat PUT not answered within ${timeoutMs / 1000}s`);
        else health.recordError('core', err);
        options.log.warn({ code: err.code, err: err.message }, 'heartbeat not written');
      }
    });
    return writing;
  };

  return {
    start() {
      void write('running');
      timer = setInterval(() => void write('running'), intervalMs);
    },
    poke() {
      if (timer !== undefined) void write('running');
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await write('stopped');
    },
    cancel() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
