import { countOf } from '../../core/units.js';
import { openLocalJournal } from '../../agent/local-journal.js';
import { ERROR_CODES } from '../../core/errors.js';
import { CommandFailure, EXIT, loadConfigOrFail, requireJournal, type Output } from '../context.js';

/** `tributary retry [--code CODE]`: dead objects go back to the queue with fresh attempts. */
export function retry(file: string, codeOption: string | undefined, output: Output): number {
  const code = codeOption?.toUpperCase();
  if (code !== undefined && !Object.hasOwn(ERROR_CODES, code)) {
    throw new CommandFailure(
      `--code ${codeOption}: not an error code (docs/errors.md lists them, such as TRIB_ERR_CORE_SERVER)`,
      EXIT.usage,
    );
  }
  // Only the local journal is read: the S3 secrets need not be in this shell's environment.
  const config = loadConfigOrFail(file, { localOnly: true });
  requireJournal(config);
  const journal = openLocalJournal(config, { owner: 'tributary retry' });
  try {
    const count = journal.retryDead({ code });
    output.out(`re-queued ${countOf(count, 'dead object')}${code ? ` with ${code}` : ''}`);
    return EXIT.ok;
  } finally {
    journal.close();
  }
}
