/**
 * One journal, one process. The commands that write the journal (`agent`, `sync --once`, `retry`)
 * take this lock before they open it; a second one on the same journal folder refuses to start,
 * naming the process that holds it. `status` and `verify` read beside the owner and never take it.
 *
 * The lock is an exclusive SQLite lock on a small file of its own (`owner.lock`), held by a
 * dedicated connection for the life of the process. SQLite locks files with POSIX advisory locks,
 * which the kernel drops when the process dies however it dies: a SIGKILLed owner never blocks the
 * next start, and no guess about staleness (a pid that may be reused, a timestamp) is needed.
 * SQLite also sees the lock between two connections of one process.
 *
 * Who holds it is written after the lock is taken to `owner.json` beside it, for the refusal
 * message only: the lock decides, the file merely names. It may be stale after a kill; the next
 * owner overwrites it.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';

import { TributaryError } from '../core/errors.js';
import { journalError } from '../db/open-database.js';

export const LOCK_FILE = 'owner.lock';
export const OWNER_FILE = 'owner.json';

/** What `owner.json` says about the process holding the lock. */
export interface JournalOwner {
  readonly pid: number;
  /** The command that holds it, as an operator would type it: `tributary agent`. */
  readonly command: string;
  readonly hostname: string;
  /** When it took the lock (ISO 8601). */
  readonly since: string;
}

export interface JournalLock {
  readonly folder: string;
  /** Gives the journal up (once; later calls do nothing). Exiting gives it up too. */
  release(): void;
}

function readOwner(folder: string): JournalOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(join(folder, OWNER_FILE), 'utf8')) as Partial<JournalOwner>;
    if (typeof owner.pid !== 'number' || typeof owner.command !== 'string') return undefined;
    return { pid: owner.pid, command: owner.command, hostname: owner.hostname ?? '', since: owner.since ?? '' };
  } catch {
    return undefined;
  }
}

function isRunningHere(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The owner as `owner.json` names it. A process that has just taken the lock writes the file a
 * moment later, so a missing file, or one naming a local process that is gone (the previous,
 * killed owner), is read again for a short while before it is reported as it is.
 */
function currentOwner(folder: string): JournalOwner | undefined {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let owner = readOwner(folder);
  for (let tries = 0; tries < 10; tries += 1) {
    if (owner !== undefined && (owner.hostname !== hostname() || isRunningHere(owner.pid))) return owner;
    Atomics.wait(pause, 0, 0, 20);
    owner = readOwner(folder);
  }
  return owner;
}

function lockedError(folder: string, cause: unknown): TributaryError {
  const owner = currentOwner(folder);
  const who =
    owner === undefined
      ? 'another process (it has not said which yet)'
      : `pid ${owner.pid}${owner.hostname !== '' && owner.hostname !== hostname() ? ` on ${owner.hostname}` : ''} (${owner.command}${owner.since === '' ? '' : `, since ${owner.since}`})`;
  return new TributaryError(
    'TRIB_ERR_JOURNAL_LOCKED',
    `journal ${folder} is in use by ${who}: stop it first; status and verify work beside it`,
    { cause },
  );
}

/**
 * Takes the journal in `folder` for this process, or throws TRIB_ERR_JOURNAL_LOCKED naming the
 * process that has it. Call it before anything opens the journal: opening writes (migrations, the
 * recovery of in-flight rows).
 */
export function lockJournal(folder: string, command: string): JournalLock {
  const path = join(folder, LOCK_FILE);
  let db: Database.Database | undefined;
  try {
    mkdirSync(folder, { recursive: true });
    db = new Database(path);
    // No waiting: a second process is told at once. Every statement below may meet the lock.
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db?.close();
    const code = (error as { code?: string }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') throw lockedError(folder, error);
    throw journalError(error, 'lock', path);
  }
  const owner: JournalOwner = { pid: process.pid, command, hostname: hostname(), since: new Date().toISOString() };
  const ownerFile = join(folder, OWNER_FILE);
  try {
    // Whole or not at all: a reader never sees half a file.
    writeFileSync(`${ownerFile}.tmp`, `${JSON.stringify(owner)}\n`);
    renameSync(`${ownerFile}.tmp`, ownerFile);
  } catch (error) {
    db.close();
    throw journalError(error, 'write', ownerFile);
  }
  let held = true;
  return {
    folder,
    release() {
      if (!held) return;
      held = false;
      // While the lock is still ours, the file is ours: no later owner's file is removed.
      rmSync(ownerFile, { force: true });
      db.close();
    },
  };
}
