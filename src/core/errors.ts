/**
 * Errors with stable codes and one retry classification, decided once where the error is born
 * (the S3 adapter, the journal, the config loader) and matched on `code` everywhere else:
 * codes survive the trip into SQLite, `instanceof` does not.
 *
 * Classes and what the runner does with them:
 * - `transient`   retry later with jittered backoff; consumes an attempt.
 * - `throttled`   retry after max(Retry-After, backoff); does not consume an attempt.
 * - `unreachable` the endpoint does not serve us at all: it cannot be reached (refused, DNS, timeout,
 *                 reset), refuses the credentials, fails the TLS handshake or is no S3 endpoint.
 *                 The object is not at fault, so no attempt is consumed; repeated ones open the
 *                 circuit breaker (an endpoint outage, with its reason). At start-up (preflight) the
 *                 credential, TLS and not-S3 ones mean the config is wrong: isConfigError.
 * - `permanent`   the object cannot be replicated as it is (gone, denied): `dead` with the reason.
 * - `superseded`  the object changed under us, is gone (the edge answered 404), or its bytes do not
 *                 match its ETag: the edge is asked for the current version; a newer one replaces
 *                 this one, none at all makes it `vanished` (not a failure), the same one is retried.
 * - `cancelled`   shutdown: release without backoff.
 * - `fatal`       nothing useful can continue (journal corrupt or full, a bucket gone): stop.
 */

export type ErrorClass = 'transient' | 'throttled' | 'unreachable' | 'permanent' | 'superseded' | 'cancelled' | 'fatal';

export const ERROR_CODES = {
  TRIB_ERR_CONFIG_INVALID: 'fatal',
  TRIB_ERR_EDGE_UNREACHABLE: 'unreachable',
  TRIB_ERR_CORE_UNREACHABLE: 'unreachable',
  TRIB_ERR_EDGE_AUTH: 'unreachable',
  TRIB_ERR_CORE_AUTH: 'unreachable',
  TRIB_ERR_EDGE_TLS: 'unreachable',
  TRIB_ERR_CORE_TLS: 'unreachable',
  TRIB_ERR_EDGE_REDIRECT: 'fatal',
  TRIB_ERR_CORE_REDIRECT: 'fatal',
  TRIB_ERR_EDGE_NOT_S3: 'unreachable',
  TRIB_ERR_CORE_NOT_S3: 'unreachable',
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
  TRIB_ERR_METADATA_CONFLICT: 'permanent',
  TRIB_ERR_METADATA_TOO_LARGE: 'permanent',
  TRIB_ERR_CORE_UPLOAD_LOST: 'transient',
  TRIB_ERR_SOURCE_GONE: 'superseded',
  TRIB_ERR_SOURCE_CHANGED: 'superseded',
  TRIB_ERR_SOURCE_CORRUPT: 'superseded',
  TRIB_ERR_LAND_MISMATCH: 'transient',
  TRIB_ERR_CORE_COPY_MISSING: 'transient',
  TRIB_ERR_CORE_COPY_DIFFERENT: 'transient',
  TRIB_ERR_KEY_UNMAPPABLE: 'permanent',
  TRIB_ERR_OBJECT_TOO_LARGE: 'permanent',
  TRIB_ERR_JOURNAL_FAILED: 'fatal',
  TRIB_ERR_JOURNAL_LOCKED: 'fatal',
  TRIB_ERR_CANCELLED: 'cancelled',
  TRIB_ERR_INTERNAL: 'transient',
} as const satisfies Record<string, ErrorClass>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Why an endpoint does not serve us, in one word: what the endpoint health record, the heartbeat,
 * `status` and the fleet view show. Decided where the error is classified (src/s3/map-error.ts).
 */
export const OUTAGE_REASONS = ['refused', 'reset', 'timeout', 'dns', 'network', 'tls', 'http-5xx', 'auth', 'not-s3'] as const;
export type OutageReason = (typeof OUTAGE_REASONS)[number];

export interface TributaryErrorOptions {
  readonly cause?: unknown;
  /** Seconds the server asked us to wait (Retry-After), for throttled errors. */
  readonly retryAfterSeconds?: number;
  /** The config path or endpoint this error is about, when there is one. */
  readonly field?: string;
  /** Why the endpoint did not serve the request, for an error that says it is down (outageOf). */
  readonly reason?: OutageReason;
}

export class TributaryError extends Error {
  readonly code: ErrorCode;
  readonly errorClass: ErrorClass;
  readonly retryAfterSeconds: number | undefined;
  readonly field: string | undefined;
  readonly reason: OutageReason | undefined;

  constructor(code: ErrorCode, message: string, options: TributaryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TributaryError';
    this.code = code;
    this.errorClass = ERROR_CODES[code];
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.field = options.field;
    this.reason = options.reason;
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
 * credentials, TLS or redirect trouble, an endpoint that is no S3, a missing bucket, denied
 * access. The CLI exits 2 on them when they happen at start-up (preflight); while an agent runs,
 * the credential, TLS and not-S3 ones are endpoint outages (see `outageOf`).
 */
export function isConfigError(error: TributaryError): boolean {
  const { code } = error;
  return (
    code === 'TRIB_ERR_CONFIG_INVALID' ||
    code.endsWith('_AUTH') ||
    code.endsWith('_TLS') ||
    code.endsWith('_NOT_S3') ||
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

/**
 * The side and the reason when `error` says an endpoint does not serve us (it is down, refuses
 * the credentials, fails TLS, is no S3, or answers 5xx); undefined for anything about one object
 * or one request (a missing key, a throttle, a changed version) or about this machine.
 */
export function outageOf(error: TributaryError): { readonly side: 'edge' | 'core'; readonly reason: OutageReason } | undefined {
  const match = /^TRIB_ERR_(EDGE|CORE)_(UNREACHABLE|AUTH|TLS|NOT_S3|SERVER)$/.exec(error.code);
  if (match === null) return undefined;
  const side = match[1] === 'EDGE' ? 'edge' : 'core';
  if (error.reason !== undefined) return { side, reason: error.reason };
  // Errors built without a reason (a test double, a message of our own): the code says enough.
  const byCode: Record<string, OutageReason> = { UNREACHABLE: 'network', AUTH: 'auth', TLS: 'tls', NOT_S3: 'not-s3' };
  const reason = byCode[match[2]!];
  // A server error without a 5xx status (an unexpected answer) says the endpoint answers.
  return reason === undefined ? undefined : { side, reason };
}
