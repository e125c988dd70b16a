/**
 * `tributary sync --once`: one pass (agent/sync-once.ts) with a progress bar on a terminal, then
 * its summary line. Exit 0 only when nothing is pending, failed or dead (vanished and forgotten
 * objects are neither).
 */
import { runSyncOnce } from '../../agent/sync-once.js';
import { formatBytes, formatDuration } from '../../core/units.js';
import type { Logger } from '../../observability/logger.js';
import { EXIT, loadConfigOrFail, type Output } from '../context.js';
import { createSyncProgress } from '../progress.js';

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
  const {
    scan,
    run,
    landedBytes,
    alreadyPresent,
    backlog: after,
    retention,
    outage,
  } = await runSyncOnce(
    config,
    { retryWindowMs: options.retryWindowMs, maxOutageMs: options.maxOutageMs, signal: options.signal, forceSignal: options.forceSignal },
    { logger: log, progress },
  );
  const elapsed = progress.elapsedMs;
  output.out(
    `sync: listed ${scan.listed}${scan.adopted > 0 ? `, adopted ${scan.adopted} the core already holds` : ''}, landed ${run.landed} (${formatBytes(landedBytes)}${alreadyPresent ? `, ${alreadyPresent} already in the core` : ''}) in ${formatDuration(elapsed)}` +
      `, ${formatBytes(elapsed > 0 ? (landedBytes * 1000) / elapsed : 0)}/s; pending ${after.pendingObjects}, failed ${after.failedObjects}, dead ${after.deadObjects}` +
      // Deleted at the edge before they could be read in this run: not a failure of the run.
      (run.vanished > 0 ? `, vanished ${run.vanished} (deleted at the edge before they could be read)` : '') +
      (retention === undefined ? '' : `; deleted from the edge ${retention.deleted}`) +
      (outage === undefined ? '' : `; stopped: ${outage}`) +
      (run.stoppedBy === 'signal' ? '; interrupted' : ''),
  );
  return after.pendingObjects + after.failedObjects + after.deadObjects === 0 ? EXIT.ok : EXIT.incomplete;
}
