/**
 * `tributary agent`: the daemon (src/agent/daemon.ts). The first SIGTERM/SIGINT stops scanning
 * and claiming, lets in-flight transfers finish for a few seconds, releases the rest (no attempt
 * used) and exits 0; a second signal aborts at once.
 */
import { runDaemon, type AgentSignals } from '../../agent/daemon.js';
import type { Logger } from '../../observability/logger.js';
import { EXIT, loadConfigOrFail } from '../context.js';

export async function runAgent(file: string, log: Logger, signals: AgentSignals): Promise<number> {
  await runDaemon(loadConfigOrFail(file), log, signals);
  return EXIT.ok;
}
