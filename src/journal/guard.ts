/** Every journal write goes through `guarded`: a SQLite failure becomes TRIB_ERR_JOURNAL_FAILED naming the action. */
import { journalError } from '../db/open-database.js';

export type Guarded = <T>(action: string, run: () => T) => T;

export function createGuard(folder: string): Guarded {
  return (action, run) => {
    try {
      return run();
    } catch (error) {
      throw journalError(error, action, folder);
    }
  };
}
