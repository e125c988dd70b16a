/**
 * `tributary forget --reason TEXT [--code CODE] [--key BUCKET/KEY]`: dead objects (all of them,
 * those that died of CODE, or those of one key) become `forgotten`: acknowledged by the operator,
 * with the reason and the time in the journal. They no longer count as dead, so `sync --once`
 * can exit 0 and the fleet shows the site healthy again without deleting the journal; `status`
 * lists them with their reasons. `retry` re-queues dead objects; this is for the ones that will
 * never land (a file that should not exist, a key no core accepts).
 */
import { openLocalJournal } from '../../agent/local-journal.js';
import { ERROR_CODES } from '../../core/errors.js';
import { countOf } from '../../core/units.js';
import { CommandFailure, EXIT, loadConfigOrFail, requireJournal, type Output } from '../context.js';

export interface ForgetOptions {
  readonly reason: string;
  readonly code?: string | undefined;
  readonly key?: string | undefined;
}

export function forget(file: string, options: ForgetOptions, output: Output): number {
  const reason = options.reason.trim();
  if (reason === '') {
    throw new CommandFailure('--reason: say why these objects will never land (it is recorded in the journal)', EXIT.usage);
  }
  const code = options.code?.toUpperCase();
  if (code !== undefined && !Object.hasOwn(ERROR_CODES, code)) {
    throw new CommandFailure(
      `--code ${options.code}: not an error code (docs/errors.md lists them, such as TRIB_ERR_CORE_ACCESS_DENIED)`,
      EXIT.usage,
    );
  }
  let at: { bucket: string; key: string } | undefined;
  if (options.key !== undefined) {
    const slash = options.key.indexOf('/');
    if (slash <= 0 || slash === options.key.length - 1) {
      throw new CommandFailure(`--key ${options.key}: expected BUCKET/KEY, such as telemetry/line-1/s3.jsonl`, EXIT.usage);
    }
    at = { bucket: options.key.slice(0, slash), key: options.key.slice(slash + 1) };
  }
  // Only the local journal is read: the S3 secrets need not be in this shell's environment.
  const config = loadConfigOrFail(file, { localOnly: true });
  requireJournal(config);
  const journal = openLocalJournal(config, { owner: 'tributary forget' });
  try {
    const count = journal.forgetDead({ code, ...at }, reason);
    const which = [code === undefined ? '' : ` with ${code}`, at === undefined ? '' : ` at ${at.bucket}/${at.key}`].join('');
    let note = '';
    if (count === 0 && at !== undefined) {
      const row = journal.latest(at.bucket, at.key);
      note = row === undefined ? ` (the journal holds no ${at.bucket}/${at.key})` : ` (${at.bucket}/${at.key} is ${row.state})`;
    }
    output.out(`forgot ${countOf(count, 'dead object')}${which}${note}; reason: ${reason}`);
    return EXIT.ok;
  } finally {
    journal.close();
  }
}
