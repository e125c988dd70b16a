/**
 * What every command shares: loading the config (errors printed with their paths, exit 2) and
 * the exit codes of the CLI contract.
 */
import { existsSync } from 'node:fs';

import { ConfigError, loadConfigFile, loadFleetConfigFile } from '../config/load.js';
import type { Config, FleetConfig } from '../config/schema.js';
import { isConfigError, isTributaryError } from '../core/errors.js';
import { journalPath } from '../agent/local-journal.js';

export const EXIT = { ok: 0, incomplete: 1, usage: 2 } as const;

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

export class CommandFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The fleet view's config (only `core` and `fleet`), its problems exiting 2 like any config's. */
export function loadFleetConfigOrFail(file: string): FleetConfig {
  try {
    return loadFleetConfigFile(file);
  } catch (error) {
    if (error instanceof ConfigError) throw new CommandFailure(error.message, EXIT.usage);
    throw error;
  }
}

export function loadConfigOrFail(file: string, options: { readonly localOnly?: boolean } = {}): Config {
  try {
    return loadConfigFile(file, options.localOnly === true ? { secretsMayBeUnset: true } : {});
  } catch (error) {
    if (error instanceof ConfigError) throw new CommandFailure(error.message, EXIT.usage);
    throw error;
  }
}

/**
 * For commands that read what an agent recorded (status, retry, verify): a journal folder with no
 * journal in it is a wrong `journal:` path, not an empty backlog.
 */
export function requireJournal(config: Config): void {
  const path = journalPath(config);
  if (!existsSync(path)) {
    throw new CommandFailure(
      `no journal at ${path}: no agent or sync --once has run with this config's journal folder yet (check journal: in the config)`,
      EXIT.usage,
    );
  }
}

/**
 * Errors that mean the configuration is wrong (bad credentials, missing bucket) exit 2, and so
 * does a journal another process owns: the command was not run, nothing was done.
 */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommandFailure) return error.exitCode;
  return isTributaryError(error) && (isConfigError(error) || error.code === 'TRIB_ERR_JOURNAL_LOCKED') ? EXIT.usage : EXIT.incomplete;
}
