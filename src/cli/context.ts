/**
 * What every command shares: loading the config (errors printed with their paths, exit 2) and
 * the exit codes of the CLI contract.
 */
import { ConfigError, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { isTributaryError } from '../core/errors.js';

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

export function loadConfigOrFail(file: string): Config {
  try {
    return loadConfigFile(file);
  } catch (error) {
    if (error instanceof ConfigError) throw new CommandFailure(error.message, EXIT.usage);
    throw error;
  }
}

/** Errors that mean the configuration is wrong (bad credentials, missing bucket) exit 2. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommandFailure) return error.exitCode;
  if (isTributaryError(error)) {
    if (
      error.code === 'TRIB_ERR_CONFIG_INVALID' ||
      error.code.endsWith('_AUTH') ||
      error.code.endsWith('_TLS') ||
      error.code.endsWith('_REDIRECT') ||
      error.code.endsWith('_BUCKET_MISSING') ||
      error.code.endsWith('_ACCESS_DENIED')
    ) {
      return EXIT.usage;
    }
  }
  return EXIT.incomplete;
}
