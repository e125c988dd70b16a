/**
 * Secrets never leave the process: this is the one list of config paths and log fields that
 * hold them, used by `config check`, the logger and anything else that prints config.
 */

export const REDACTED = '[redacted]';

const SECRET_FIELD = /^(secretAccessKey|accessKeyId|sessionToken|token|authorization|password)$/i;

/** True for the name of a field that holds a secret. */
export function isSecretField(name: string): boolean {
  return SECRET_FIELD.test(name);
}

/** A deep copy of `value` with every secret field replaced by `[redacted]`. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, SECRET_FIELD.test(key) && item !== undefined ? REDACTED : redactSecrets(item)]),
    );
  }
  return value;
}

/** pino `redact` paths for the same fields wherever they appear in a log line. */
export const LOG_REDACT_PATHS = [
  '*.secretAccessKey',
  '*.accessKeyId',
  '*.sessionToken',
  '*.token',
  '*.authorization',
  '*.*.secretAccessKey',
  '*.*.accessKeyId',
  '*.*.sessionToken',
  'req.headers.authorization',
  'headers.authorization',
];
