/**
 * The journal of this site's config, for the commands that read or amend what an agent recorded
 * without building one (status, retry): no endpoint is dialled, no S3 secret is needed. A command
 * that amends it owns it (the lock of journal-lock.ts, released when the journal is closed); one
 * that reads it works beside a running agent.
 */
import { join } from 'node:path';

import type { Config } from '../config/schema.js';
import { JOURNAL_FILE } from '../db/open-database.js';
import { openJournal } from '../journal/open-journal.js';
import { systemClock } from '../ports/clock.js';
import type { Journal } from '../ports/journal.js';
import { retentionPolicy } from '../transfer/edge-retention.js';
import type { JournalAccess } from './build-agent.js';
import { lockJournal } from './journal-lock.js';

/** The journal's SQLite file for this config. */
export function journalPath(config: Pick<Config, 'journal'>): string {
  return join(config.journal, JOURNAL_FILE);
}

export function openLocalJournal(config: Pick<Config, 'journal'>, access: JournalAccess): Journal {
  if (access === 'reader') return openJournal(config.journal, systemClock);
  const lock = lockJournal(config.journal, access.owner);
  try {
    const journal = openJournal(config.journal, systemClock);
    return {
      ...journal,
      close: () => {
        try {
          journal.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** Whether edge retention may ever delete an edge object under this config. */
export function edgeRetentionConfigured(config: Pick<Config, 'retention' | 'rules'>): boolean {
  return retentionPolicy(config.retention, config.rules) !== undefined;
}
