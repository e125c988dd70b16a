/**
 * The daemon (`tributary agent`). Scans every `scan.interval` and transfers continuously.
 * The first SIGTERM/SIGINT stops scanning and claiming, lets in-flight transfers finish for a few
 * seconds, releases the rest (no attempt used) and exits 0; a second signal aborts at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { buildAgent } from './build-agent.js';
import { createWaker } from '../core/waker.js';
import { createHeartbeatWriter } from './heartbeat-writer.js';
import { createAgentMetrics } from '../observability/metrics.js';
import { startAgentHttp, type AgentHttpServer } from './http-server.js';
import { systemClock } from '../ports/clock.js';
import { coerceError, isConfigError } from '../core/errors.js';
import { createEventIntake } from '../detect/event-intake.js';
import { parseListen } from '../core/listen-address.js';
import { buildStatus } from '../report/status-report.js';
import { probeTimingFor } from '../schedule/endpoint-health.js';
import type { Logger } from '../observability/logger.js';
import type { Config } from '../config/schema.js';

export interface AgentSignals {
  readonly stop: AbortSignal;
  readonly force: AbortSignal;
}

const DRAIN_MS = 5000;

/** Runs until the stop signal; resolves once everything is closed, rejects with what stopped it otherwise. */
export async function runDaemon(config: Config, log: Logger, signals: AgentSignals): Promise<void> {
  const agent = buildAgent(config, { logger: log, metrics: createAgentMetrics, journalAccess: { owner: 'tributary agent' } });
  const waker = createWaker();
  let http: AgentHttpServer | undefined;
  let manifestTimer: NodeJS.Timeout | undefined;
  const heartbeat = createHeartbeatWriter(agent, { clock: systemClock, log });
  try {
    try {
      await agent.preflight(signals.stop);
    } catch (error) {
      const err = coerceError(error);
      if (isConfigError(err)) throw err;
      log.warn({ code: err.code, err: err.message }, 'an endpoint is not reachable yet; starting anyway');
    }
    http = await startAgentHttp({
      listen: parseListen(config.http.listen)!,
      token: config.http.token,
      metrics: agent.metrics,
      status: () => buildStatus(config.site, agent.journal, Date.now(), { edgeRetention: agent.retentionEnabled }),
      ready: () => {
        const core = agent.health.state('core');
        return core.reachable
          ? { ok: true }
          : {
              ok: false,
              reason: `the core is unreachable since ${new Date(core.since).toISOString()} (${core.reason ?? 'unknown'}): ${core.detail ?? ''}`,
            };
      },
      events: {
        maxBodyBytes: config.events.maxBodySize,
        handle: createEventIntake({
          journal: agent.journal,
          targets: agent.targets,
          rules: config.rules,
          keyEncoding: config.events.keyEncoding,
          now: () => new Date(),
          onQueued: () => waker.notify(),
          propagateDeletes: config.deletes === 'propagate',
          onDeletions: () => void agent.propagateDeletions(signals.stop).catch(() => undefined),
          count: (outcome, n) => agent.metrics.countEvents(outcome, n),
        }),
      },
      log,
    });
    log.info(
      { site: config.site, buckets: agent.targets.map((t) => t.name), interval: config.scan.interval, http: http.address },
      'agent started',
    );
    heartbeat.start();
    // The loops beside the runner end with it, also when it stops on its own (a fatal error).
    const runnerDone = new AbortController();
    const stopping = AbortSignal.any([signals.stop, runnerDone.signal]);
    // A change of reachability is news for the fleet view now, not at the next interval.
    agent.health.subscribe((_side, _record, changed) => {
      if (changed) heartbeat.poke();
    });
    manifestTimer = setInterval(() => void agent.manifests.flush(), config.manifests.interval);

    // An idle agent hears from the edge only at each scan: probes fill the gaps, so an outage
    // shows within 30 s or one scan interval, whichever is shorter (schedule/endpoint-health.ts).
    // The core is heard from by every heartbeat.
    const firstBucket = config.edge.buckets[0]!.name;
    const watching = agent.health.watch(
      'edge',
      (signal) => agent.source.checkBucket(firstBucket, { signal }),
      probeTimingFor(config.scan.interval),
      stopping,
    );

    const scanning = (async () => {
      while (!stopping.aborted) {
        try {
          const result = await agent.scan(stopping, () => waker.notify());
          log.info({ listed: result.listed, queued: result.queued, changed: result.changed, resumed: result.resumed }, 'scan complete');
          await agent.propagateDeletions(stopping);
        } catch (error) {
          const err = coerceError(error);
          if (err.errorClass === 'cancelled' || stopping.aborted) break;
          log.warn({ code: err.code, err: err.message }, 'scan failed; will try again at the next interval');
        }
        waker.notify();
        await sleep(config.scan.interval, undefined, { signal: stopping }).catch(() => undefined);
      }
    })();

    // Edge retention: a round every retention.interval, none while an endpoint is unreachable.
    // A fatal error (the journal) ends retention and is reported when the agent stops; the
    // runner meets the same journal and stops it.
    let retentionFatal: unknown;
    const expiring = (async () => {
      if (!agent.retentionEnabled) return;
      while (!stopping.aborted) {
        await sleep(config.retention.interval, undefined, { signal: stopping }).catch(() => undefined);
        if (stopping.aborted) break;
        if (agent.breaker.isOpen || !agent.health.isReachable('edge') || !agent.health.isReachable('core')) continue;
        try {
          await agent.expireEdgeObjects(stopping);
        } catch (error) {
          const err = coerceError(error);
          if (err.errorClass === 'cancelled' || stopping.aborted) break;
          if (err.errorClass === 'fatal') {
            log.error({ code: err.code, err: err.message }, 'edge retention stopped');
            retentionFatal = err;
            break;
          }
          log.warn({ code: err.code, err: err.message }, 'edge retention failed; will try again at the next interval');
        }
      }
    })();

    const summary = await agent.runner.run({
      mode: 'forever',
      signal: signals.stop,
      forceSignal: signals.force,
      drainMs: DRAIN_MS,
      wake: () => waker.wait(),
    });
    runnerDone.abort();
    await scanning;
    await expiring;
    await watching;
    clearInterval(manifestTimer);
    await agent.manifests.flush();
    await heartbeat.stop();
    if (summary.fatal) throw summary.fatal;
    if (retentionFatal !== undefined) throw coerceError(retentionFatal);
    log.info({ landed: summary.landed }, 'agent stopped');
  } finally {
    clearInterval(manifestTimer);
    heartbeat.cancel();
    await http?.close();
    await agent.close();
  }
}
