/**
 * The root pino logger: JSON lines on stderr (stdout belongs to command output such as
 * `status` or `config check`), with the one redaction list of config/redact.ts so a secret
 * that slips into a log object is replaced before it is written.
 */
import { pino, type Logger } from 'pino';

import { LOG_REDACT_PATHS } from '../config/redact.js';

export type { Logger };

export function createLogger(options: { readonly level?: string; readonly destination?: number } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { app: 'tributary' },
      redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ fd: options.destination ?? 2, sync: false }),
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });
