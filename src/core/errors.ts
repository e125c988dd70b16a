/**
 * Errors with stable codes and one retry classification, decided once where the error is born
 * (the S3 adapter, the journal, the config loader) and matched on `code` everywhere else:
 * codes survive the trip into SQLite, `instanceof` does not.
 *
 * Classes and what the runner does with them:
 * - `transient`   retry later with jittered backoff; consumes an attempt.
 * - `throttled`   retry after max(Retry-After, backoff); does not consume an attempt.
 * - `unreachable` the endpoint could not be reached at all (refused, DNS, timeout): the object is
 *                 not at fault, so no attempt is consumed; repeated ones open the circuit breaker.
 * - `permanent`   the object cannot be replicated as it is (gone, denied): `dead` with the reason.
 * - `superseded`  the object changed under us (or its bytes do not match its ETag): the edge is asked
 *                 for the current version; a newer one replaces this one, the same one is retried.
 * - `cancelled`   shutdown: release without backoff.
 * - `fatal`       nothing useful can continue (bad credentials, journal corrupt or full): stop.
 */

export type ErrorClass = 'transient' | 'throttled' | 'unreachable' | 'permanent' | 'superseded' | 'cancelled' | 'fatal';

export const ERROR_CODES = {
  TRIB_ERR_CONFIG_INVALID: 'fatal',
  TRIB_ERR_EDGE_UNREACHABLE: 'unreachable',
  TRIB_ERR_CORE_UNREACHABLE: 'unreachable',
  TRIB_ERR_EDGE_AUTH: 'fatal',
  TRIB_ERR_CORE_AUTH: 'fatal',
  TRIB_ERR_EDGE_TLS: 'fatal',
  TRIB_ERR_CORE_TLS: 'fatal',
  TRIB_ERR_EDGE_REDIRECT: 'fatal',
  TRIB_ERR_CORE_REDIRECT: 'fatal',
  TRIB_ERR_EDGE_BUCKET_MISSING: 'fatal',
  TRIB_ERR_CORE_BUCKET_MISSING: 'fatal',
  TRIB_ERR_EDGE_THROTTLED: 'throttled',
  TRIB_ERR_CORE_THROTTLED: 'throttled',
  TRIB_ERR_EDGE_SERVER: 'transient',
  TRIB_ERR_CORE_SERVER: 'transient',
  TRIB_ERR_EDGE_BAD_RESPONSE: 'transient',
  TRIB_ERR_CORE_BAD_RESPONSE: 'transient',
  TRIB_ERR_EDGE_ACCESS_DENIED: 'permanent',
  TRIB_ERR_CORE_ACCESS_DENIED: 'permanent',
  TRIB_ERR_CORE_REJECTED: 'permanent',
  TRIB_ERR_CORE_UPLOAD_LOST: 'transient',
  TRIB_ERR_SOURCE_GONE: 'permanent',
  TRIB_ERR_SOURCE_CHANGED: 'superseded',
  TRIB_ERR_SOURCE_CORRUPT: 'superseded',
  TRIB_ERR_LAND_MISMATCH: 'transient',
  TRIB_ERR_CORE_COPY_MISSING: 'transient',
  TRIB_ERR_KEY_UNMAPPABLE: 'permanent',
  TRIB_ERR_OBJECT_TOO_LARGE: 'permanent',
  TRIB_ERR_JOURNAL_FAILED: 'fatal',
  TRIB_ERR_JOURNAL_LOCKED: 'fatal',
  TRIB_ERR_CANCELLED: 'cancelled',
  TRIB_ERR_INTERNAL: 'transient',
} as const satisfies Record<string, ErrorClass>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface TributaryErrorOptions {
  readonly cause?: unknown;
  /** Seconds the server asked us to wait (Retry-After), for throttled errors. */
  readonly retryAfterSeconds?: number;
  /** The config path or endpoint this error is about, when there is one. */
  readonly field?: string;
}

export class TributaryError extends Error {
  readonly code: ErrorCode;
  readonly errorClass: ErrorClass;
  readonly retryAfterSeconds: number | undefined;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, options: TributaryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TributaryError';
    this.code = code;
    this.errorClass = ERROR_CODES[code];
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.field = options.field;
  }
}

export function isTributaryError(value: unknown): value is TributaryError {
  return (
    value instanceof Error &&
    typeof (value as { code?: unknown }).code === 'string' &&
    (value as unknown as { code: string }).code in ERROR_CODES
  );
}

/**
 * Errors that mean the configuration is wrong, not the object or the link: bad config, refused
 * credentials, TLS or redirect trouble, a missing bucket, denied access. The CLI exits 2 on them.
 */
export function isConfigError(error: TributaryError): boolean {
  const { code } = error;
  return (
    code === 'TRIB_ERR_CONFIG_INVALID' ||
    code.endsWith('_AUTH') ||
    code.endsWith('_TLS') ||
    code.endsWith('_REDIRECT') ||
    code.endsWith('_BUCKET_MISSING') ||
    code.endsWith('_ACCESS_DENIED')
  );
}

/** Normalises anything thrown into a TributaryError; unknown errors become TRIB_ERR_INTERNAL. */
export function coerceError(value: unknown): TributaryError {
  if (isTributaryError(value)) return value;
  if (value instanceof Error && (value.name === 'AbortError' || (value as { code?: unknown }).code === 'ABORT_ERR')) {
    return new TributaryError('TRIB_ERR_CANCELLED', 'cancelled', { cause: value });
  }
  const message = value instanceof Error ? value.message : String(value);
  return new TributaryError('TRIB_ERR_INTERNAL', message, { cause: value });
}
