/**
 * `tributary sync --once`: one scan of every configured bucket, then transfers until every
 * object found has landed or failed. Exit 0 only when nothing is pending, failed or dead.
 */
import { buildAgent } from '../../agent/build-agent.js';
import { formatBytes, formatDuration } from '../../core/units.js';
import type { Logger } from '../../observability/logger.js';
import { createSyncProgress } from '../progress.js';
import { EXIT, loadConfigOrFail, type Output } from '../context.js';
import { summarizeBacklog } from './status.js';

export interface SyncOptions {
  readonly configFile: string;
  readonly interactive: boolean;
  /** Retries due within this window are waited for before the pass ends. */
  readonly retryWindowMs: number;
  /** Give up when an endpoint stays unreachable this long. */
  readonly maxOutageMs: number;
  readonly signal: AbortSignal;
  readonly forceSignal?: AbortSignal;
}

export async function syncOnce(options: SyncOptions, output: Output, log: Logger): Promise<number> {
  const config = loadConfigOrFail(options.configFile);
  const progress = createSyncProgress(options.interactive);
  let landedBytes = 0;
  let alreadyPresent = 0;
  const agent = buildAgent(config, {
    logger: log,
    onBytesSent: (bytes) => progress.bytesSent(bytes),
    hooks: {
      onLanded: (job, result) => {
        landedBytes += job.size;
        if (result.alreadyPresent) alreadyPresent += 1;
        progress.objectDone(job.size);
      },
      onFailed: (job, error, outcome) => {
        const line = { bucket: job.bucket, key: job.key, code: error.code, attempt: job.attempts + 1, err: error.message };
        if (outcome === 'dead') log.error(line, 'object is dead');
        else if (outcome === 'retry') log.warn(line, 'object failed; will retry');
        else log.debug(line, `object ${outcome}`);
      },
    },
  });
  try {
    await agent.preflight(options.signal);
    const scan = await agent.scan(options.signal);
    log.info({ listed: scan.listed, queued: scan.queued, changed: scan.changed, skipped: scan.skipped, resumed: scan.resumed }, 'scan complete');
    const pending = summarizeBacklog(agent.journal.backlog());
    progress.setTotals(pending.pendingObjects + pending.failedObjects, pending.pendingBytes);
    const summary = await agent.runner.run({
      mode: 'once',
      retryHorizonMs: options.retryWindowMs,
      maxOutageMs: options.maxOutageMs,
      signal: options.signal,
      drainMs: 5000,
      ...(options.forceSignal === undefined ? {} : { forceSignal: options.forceSignal }),
    });
    progress.stop();
    const after = summarizeBacklog(agent.journal.backlog());
    const elapsed = progress.elapsedMs;
    output.out(
      `sync: listed ${scan.listed}, landed ${summary.landed} (${formatBytes(landedBytes)}${alreadyPresent ? `, ${alreadyPresent} already in the core` : ''}) in ${formatDuration(elapsed)}` +
        `, ${formatBytes(elapsed > 0 ? (landedBytes * 1000) / elapsed : 0)}/s; pending ${after.pendingObjects}, failed ${after.failedObjects}, dead ${after.deadObjects}` +
        (summary.stoppedBy === 'outage' ? `; stopped: ${agent.breaker.side ?? 'an endpoint'} unreachable` : '') +
        (summary.stoppedBy === 'signal' ? '; interrupted' : ''),
    );
    if (summary.fatal) throw summary.fatal;
    return after.pendingObjects + after.failedObjects + after.deadObjects === 0 ? EXIT.ok : EXIT.incomplete;
  } finally {
    progress.stop();
    agent.close();
  }
}
