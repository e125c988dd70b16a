/**
 * One pass of `tributary sync --once`: one edge retention round when retention is configured,
 * one scan of every configured bucket, and transfers (from the scan's first page on) until every
 * object found has landed or failed; then deletion propagation, the manifests of what landed and
 * the run's heartbeat. The result says what the pass did and what is left; the command prints it
 * and exits 0 only when nothing is pending, failed or dead (vanished and forgotten objects are
 * neither).
 */
import type { Config } from '../config/schema.js';
import { coerceError, outageOf } from '../core/errors.js';
import { createWaker } from '../core/waker.js';
import type { Logger } from '../observability/logger.js';
import { systemClock } from '../ports/clock.js';
import { backlogOf, type BacklogSummary } from '../report/status-report.js';
import type { RunSummary } from '../schedule/runner.js';
import { buildAgent, type Agent, type AgentDependencies, type RetentionRound } from './build-agent.js';
import { createHeartbeatWriter } from './heartbeat-writer.js';

/**
 * Whoever shows the pass's progress (the CLI's bar): told the totals as the scan finds them, each
 * object landed and the bytes as they are sent. `stop` comes once the transfers are over, before
 * the manifests and the heartbeat are written, and again when the pass ends.
 */
export interface SyncProgressSink {
  /** True when the totals are shown: each page of the scan then costs a backlog query for them. */
  readonly interactive: boolean;
  setTotals(objects: number, bytes: number): void;
  /** An object landed; `alreadyPresent` when the core held it and none of its bytes were sent. */
  objectDone(bytes: number, alreadyPresent: boolean): void;
  bytesSent(bytes: number): void;
  stop(): void;
}

export interface SyncOnceOptions {
  /** Retries due within this window are waited for before the pass ends. */
  readonly retryWindowMs: number;
  /** Give up when an endpoint stays unreachable this long. */
  readonly maxOutageMs: number;
  readonly signal: AbortSignal;
  readonly forceSignal?: AbortSignal | undefined;
}

/** Adapters and clock for tests; the logger is the command's, the progress its bar (none by default). */
export type SyncOnceDependencies = Pick<AgentDependencies, 'logger' | 'clock' | 'source' | 'lake'> & {
  readonly progress?: SyncProgressSink;
};

/** What the scan of the pass found (both passes when it first finished one an earlier run left). */
export interface SyncScan {
  readonly listed: number;
  readonly queued: number;
  readonly changed: number;
  readonly skipped: number;
  readonly resumed: boolean;
  /** Versions journaled as landed because the core already holds them. */
  readonly adopted: number;
}

export interface SyncOnceResult {
  readonly scan: SyncScan;
  /** How the transfers ended: landings, vanished objects, and why the runner stopped. */
  readonly run: Pick<RunSummary, 'landed' | 'vanished' | 'stoppedBy'>;
  /** Bytes of the objects landed in this pass, those the core already held included. */
  readonly landedBytes: number;
  /** Landed without a byte sent: the core already held them. */
  readonly alreadyPresent: number;
  /** The journal's backlog once the pass is over. */
  readonly backlog: BacklogSummary;
  /** The edge retention round before the pass; undefined when retention is not configured or it failed. */
  readonly retention?: RetentionRound;
  /** When an endpoint stopped the transfers: which one, and why (`core unreachable (timeout)`). */
  readonly outage?: string;
}

const NO_PROGRESS: SyncProgressSink = {
  interactive: false,
  setTotals: () => undefined,
  objectDone: () => undefined,
  bytesSent: () => undefined,
  stop: () => undefined,
};

/**
 * Edge retention, before the pass: what earlier passes landed and is now due is deleted from the
 * edge (after every check of docs/operations.md), and an object whose core copy has gone missing
 * is queued again and copied in this same pass. Undefined when retention is not configured. Only a
 * fatal error (the journal) ends the pass; anything else leaves the edge as it is until next time.
 */
async function expireDueEdgeObjects(agent: Agent, signal: AbortSignal, log: Logger): Promise<RetentionRound | undefined> {
  if (!agent.retentionEnabled) return undefined;
  try {
    return await agent.expireEdgeObjects(signal);
  } catch (error) {
    const err = coerceError(error);
    if (err.errorClass === 'fatal') throw err;
    if (err.errorClass === 'cancelled' || signal.aborted) return undefined;
    log.warn({ code: err.code, err: err.message }, 'edge retention failed; the edge is left as it is until the next pass');
    return undefined;
  }
}

/** Which endpoint stopped the pass, and why (the endpoint health record). */
function outageNote(agent: Agent): string {
  const side = agent.breaker.side ?? (agent.health.isReachable('edge') ? 'core' : 'edge');
  const { reason } = agent.health.state(side);
  return `${side} unreachable${reason === undefined ? '' : ` (${reason})`}`;
}

/** Runs one pass as the journal's owner; throws what stopped it (a refused journal lock, an endpoint at preflight, a fatal error). */
export async function runSyncOnce(config: Config, options: SyncOnceOptions, deps: SyncOnceDependencies): Promise<SyncOnceResult> {
  const { progress = NO_PROGRESS, ...agentDeps } = deps;
  const log = deps.logger;
  const clock = deps.clock ?? systemClock;
  const runStartedAt = clock.now();
  let landedBytes = 0;
  let landedObjects = 0;
  let alreadyPresent = 0;
  const agent = buildAgent(config, {
    ...agentDeps,
    journalAccess: { owner: 'tributary sync --once' },
    onBytesSent: (bytes) => progress.bytesSent(bytes),
    hooks: {
      onLanded: (job, result) => {
        landedBytes += job.size;
        landedObjects += 1;
        if (result.alreadyPresent) alreadyPresent += 1;
        progress.objectDone(job.size, result.alreadyPresent);
      },
    },
  });
  // The fleet sees a site run from cron by the heartbeat each run writes at its end, outages of the
  // edge included; only a core that does not answer gets none (the fleet then sees it stale).
  const writeRunHeartbeat = () => createHeartbeatWriter(agent, { clock, log, mode: 'once', startedAt: runStartedAt }).stop();
  try {
    return await passOnce();
  } catch (error) {
    // A run that an endpoint stopped (at preflight, in the scan) says so where the fleet and
    // `status` look, at once: there is no second check in a one-shot run.
    const err = coerceError(error);
    const outage = outageOf(err);
    if (outage !== undefined) {
      agent.health.markUnreachable(outage.side, outage.reason, err.message);
      if (outage.side === 'edge' && agent.health.isReachable('core')) await writeRunHeartbeat();
    }
    throw err;
  } finally {
    progress.stop();
    await agent.close();
  }

  async function passOnce(): Promise<SyncOnceResult> {
    await agent.preflight(options.signal);
    const retention = await expireDueEdgeObjects(agent, options.signal, log);
    // Transfers start with the first page of the scan, not after the last.
    const waker = createWaker();
    const stopScan = new AbortController();
    let scanning = true;
    const showTotals = () => {
      if (!progress.interactive) return;
      const backlog = backlogOf(agent.journal);
      progress.setTotals(landedObjects + backlog.pendingObjects + backlog.failedObjects, landedBytes + backlog.pendingBytes);
    };
    const scanSignal = AbortSignal.any([options.signal, stopScan.signal]);
    const onPage = () => {
      showTotals();
      waker.notify();
    };
    // A pass that resumed an interrupted one did not list the keys before its checkpoint in this
    // run (some may be new): one fresh pass more makes this run's listing whole.
    const scanned = agent
      .scan(scanSignal, onPage)
      .then(async (first) => {
        if (!first.resumed) return first;
        log.info({ listed: first.listed }, 'finished the scan pass an earlier run left unfinished; listing once more from the start');
        const fresh = await agent.scan(scanSignal, onPage);
        return {
          ...fresh,
          queued: first.queued + fresh.queued,
          changed: first.changed + fresh.changed,
          skipped: first.skipped + fresh.skipped,
          adopted: first.adopted + fresh.adopted,
          adoptedBytes: first.adoptedBytes + fresh.adoptedBytes,
          adopting: first.adopting || fresh.adopting,
          resumed: true,
        };
      })
      .finally(() => {
        scanning = false;
        waker.notify();
      });
    const running = agent.runner
      .run({
        mode: 'once',
        retryHorizonMs: options.retryWindowMs,
        maxOutageMs: options.maxOutageMs,
        signal: options.signal,
        drainMs: 5000,
        wake: () => waker.wait(),
        moreComing: () => scanning,
        ...(options.forceSignal === undefined ? {} : { forceSignal: options.forceSignal }),
      })
      .then((summary) => {
        // No point listing on when transfers cannot continue.
        if (summary.stoppedBy !== 'idle') stopScan.abort();
        return summary;
      });
    const [scanOutcome, runOutcome] = await Promise.allSettled([scanned, running]);
    if (runOutcome.status === 'rejected') throw runOutcome.reason;
    const summary = runOutcome.value;
    if (summary.fatal) throw summary.fatal;
    if (scanOutcome.status === 'rejected' && summary.stoppedBy === 'idle') throw scanOutcome.reason;
    const scan: SyncScan =
      scanOutcome.status === 'fulfilled' ? scanOutcome.value : { listed: 0, queued: 0, changed: 0, skipped: 0, resumed: false, adopted: 0 };
    log.info(
      { listed: scan.listed, queued: scan.queued, changed: scan.changed, skipped: scan.skipped, resumed: scan.resumed },
      'scan complete',
    );
    progress.stop();
    if (summary.stoppedBy === 'idle') await agent.propagateDeletions(options.signal);
    if (summary.stoppedBy === 'signal') {
      log.info(
        { landed: summary.landed, reason: (options.signal.reason as Error | undefined)?.message ?? 'signal' },
        'sync stopped by a signal: objects in flight were released for the next run (no attempt used); listing what landed',
      );
    }
    // What landed is listed even after a stop signal: the manifest goes out with its own deadline
    // (a second signal still cuts it short), so an orderly stop leaves nothing unlisted.
    const listed = await agent.manifests.flush(
      AbortSignal.any([AbortSignal.timeout(10_000), ...(options.forceSignal ? [options.forceSignal] : [])]),
    );
    if (listed > 0) log.info({ objects: listed }, 'manifests written');
    if (!(summary.stoppedBy === 'outage' && agent.breaker.side === 'core')) await writeRunHeartbeat();
    return {
      scan: {
        listed: scan.listed,
        queued: scan.queued,
        changed: scan.changed,
        skipped: scan.skipped,
        resumed: scan.resumed,
        adopted: scan.adopted,
      },
      run: { landed: summary.landed, vanished: summary.vanished, stoppedBy: summary.stoppedBy },
      landedBytes,
      alreadyPresent,
      backlog: backlogOf(agent.journal),
      ...(retention === undefined ? {} : { retention }),
      ...(summary.stoppedBy === 'outage' ? { outage: outageNote(agent) } : {}),
    };
  }
}
