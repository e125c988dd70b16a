/**
 * `tributary verify [--deep] [--retained] [--repair] [--json]`: the audit of agent/verify.ts,
 * printed. Exit 0 only when nothing is missing or different; with `--repair`, only when all of
 * what was found is now in the core and identical. Plain `verify` stays read-only.
 */
import { runVerify } from '../../agent/verify.js';
import { countOf, formatDuration } from '../../core/units.js';
import type { Logger } from '../../observability/logger.js';
import { EXIT, loadConfigOrFail, requireJournal, type Output } from '../context.js';

export interface VerifyOptions {
  readonly deep: boolean;
  readonly json: boolean;
  /** Also the core copies of the objects edge retention deleted. */
  readonly retained: boolean;
  /** Put right what is missing or different, then check it again (takes the journal's lock). */
  readonly repair?: boolean;
}

export async function verify(file: string, options: VerifyOptions, output: Output, log: Logger, signal: AbortSignal): Promise<number> {
  const { deep, json, retained } = options;
  const repair = options.repair === true;
  const config = loadConfigOrFail(file);
  requireJournal(config);
  const startedAt = Date.now();
  const result = await runVerify(config, { deep, retained, repair, signal }, { logger: log });
  const { checked, retainedChecked, problems: found, repair: repaired } = result;
  const flags = `${deep ? ' --deep' : ''}${retained ? ' --retained' : ''}${repair ? ' --repair' : ''}`;
  if (json) {
    const repairJson = repair
      ? { repair: repaired ?? { queued: 0, journaled: 0, adopted: 0, landed: 0, repaired: [], remaining: [] } }
      : {};
    output.out(JSON.stringify({ checked, deep, ...(retained ? { retainedChecked } : {}), problems: found, ...repairJson }, null, 2));
  } else {
    for (const p of found) output.out(`${p.problem.padEnd(9)} ${p.bucket}/${p.key}: ${p.detail}`);
    const retainedNote = retained ? ` (${retainedChecked} of them deleted from the edge by retention)` : '';
    output.out(`verify${flags}: ${countOf(checked, 'object')} checked${retainedNote}, ${found.length} missing, pending or different`);
    if (repaired !== undefined) {
      output.out(
        `repair: queued ${repaired.queued} to land again, journaled ${repaired.journaled} the journal lacked, adopted ${repaired.adopted} the core already holds; ` +
          `landed ${repaired.landed} in ${formatDuration(Date.now() - startedAt)}${repaired.stopped === undefined ? '' : `; stopped: ${repaired.stopped}`}`,
      );
      for (const r of repaired.repaired) output.out(`${'repaired'.padEnd(9)} ${r.bucket}/${r.key}: ${r.how}`);
      for (const p of repaired.remaining) output.out(`${p.problem.padEnd(9)} ${p.bucket}/${p.key}: ${p.detail}`);
      output.out(
        `verify${flags}: ${repaired.repaired.length} of ${found.length} repaired, ${repaired.remaining.length} still missing, pending or different`,
      );
    }
  }
  if (repaired !== undefined) return repaired.remaining.length === 0 ? EXIT.ok : EXIT.incomplete;
  return found.length === 0 ? EXIT.ok : EXIT.incomplete;
}
