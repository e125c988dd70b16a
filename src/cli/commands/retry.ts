import { openJournal } from '../../journal/sqlite-journal.js';
import { systemClock } from '../../ports/clock.js';
import { EXIT, loadConfigOrFail, type Output } from '../context.js';

/** `tributary retry [--code CODE]`: dead objects go back to the queue with fresh attempts. */
export function retry(file: string, code: string | undefined, output: Output): number {
  const config = loadConfigOrFail(file);
  const journal = openJournal(config.journal, systemClock);
  try {
    const count = journal.retryDead({ code });
    output.out(`re-queued ${count} dead object${count === 1 ? '' : 's'}${code ? ` with ${code}` : ''}`);
    return EXIT.ok;
  } finally {
    journal.close();
  }
}
