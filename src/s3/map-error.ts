/**
 * The one place where AWS SDK, HTTP and socket errors become Tributary error codes. Everything
 * above the adapter matches on the code and its class, never on SDK error shapes.
 */
import { TributaryError, type ErrorCode, type OutageReason } from '../core/errors.js';

import type { Side } from '../core/side.js';

export type { Side };

interface SdkLikeError {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number; headers?: Record<string, string | undefined> };
  $retryable?: unknown;
  cause?: unknown;
  /** The endpoint URL the request went to (the lean client adds it). */
  $endpoint?: string;
  /** Why the answer is not one an S3 server gives (the lean client adds it; see not-s3.ts). */
  $notS3?: string;
}

const AUTH = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'CredentialsProviderError',
  'AuthorizationHeaderMalformed',
  'InvalidClientTokenId',
]);
const THROTTLE = new Set([
  'SlowDown',
  'TooManyRequests',
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
const DIGEST = new Set(['BadDigest', 'InvalidDigest', 'XAmzContentSHA256Mismatch', 'IncompleteBody']);
const REJECTED = new Set([
  'KeyTooLongError',
  'EntityTooLarge',
  'InvalidArgument',
  'InvalidRequest',
  'MetadataTooLarge',
  'InvalidObjectState',
]);

const TLS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
]);

/** The reason a connection failure gives for an endpoint outage. */
const NETWORK_REASON: Readonly<Record<string, OutageReason>> = {
  ECONNREFUSED: 'refused',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  ECONNABORTED: 'reset',
  UND_ERR_SOCKET: 'reset',
  UND_ERR_CLOSED: 'reset',
  ERR_STREAM_PREMATURE_CLOSE: 'reset',
  ETIMEDOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
};

/** OpenSSL's answer when a TLS client meets a server that speaks plain HTTP. */
function isPlainHttpUnderTls(error: unknown, depth = 0): boolean {
  if (depth > 4 || error === null || typeof error !== 'object') return false;
  const e = error as SdkLikeError;
  if (e.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/i.test(e.message ?? '')) return true;
  return isPlainHttpUnderTls(e.cause, depth + 1);
}

/** Any other OpenSSL failure of the handshake (ERR_SSL_*), by its code. */
function sslCode(error: unknown, depth = 0): string | undefined {
  if (depth > 4 || error === null || typeof error !== 'object') return undefined;
  const e = error as SdkLikeError;
  if (e.code?.startsWith('ERR_SSL_') === true) return e.code;
  return sslCode(e.cause, depth + 1);
}

function tlsCode(error: unknown, depth = 0): string | undefined {
  if (depth > 4 || error === null || typeof error !== 'object') return undefined;
  const e = error as SdkLikeError;
  if (e.code && TLS.has(e.code)) return e.code;
  return tlsCode(e.cause, depth + 1);
}

function networkCode(error: unknown, depth = 0): string | undefined {
  if (depth > 4 || error === null || typeof error !== 'object') return undefined;
  const e = error as SdkLikeError;
  if (e.code && NETWORK.has(e.code)) return e.code;
  if (e.name === 'TimeoutError' || e.name === 'RequestTimeout') return 'ETIMEDOUT';
  if (typeof e.message === 'string' && /socket hang up|other side closed|premature close/i.test(e.message)) return 'ECONNRESET';
  return networkCode(e.cause, depth + 1);
}

function retryAfterSeconds(error: SdkLikeError): number | undefined {
  const header = error.$response?.headers?.['retry-after'];
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

function code(
  side: Side,
  what: 'UNREACHABLE' | 'AUTH' | 'TLS' | 'NOT_S3' | 'BUCKET_MISSING' | 'THROTTLED' | 'SERVER' | 'BAD_RESPONSE' | 'ACCESS_DENIED',
): ErrorCode {
  return `TRIB_ERR_${side === 'edge' ? 'EDGE' : 'CORE'}_${what}`;
}

/**
 * Maps an error from an S3 call to a TributaryError. `operation` names the call for the message
 * (`GET telemetry/a.json`); secrets never appear in it because the SDK does not put them there
 * and we never add request headers.
 */
export function mapS3Error(error: unknown, side: Side, operation: string): TributaryError {
  if (error instanceof TributaryError) return error;
  const e = (error ?? {}) as SdkLikeError;
  const name = e.name ?? e.Code ?? 'Error';
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const where = `${side} ${operation}`;
  const detail = `${name}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? ''}`.trim();

  const endpoint = e.$endpoint ?? `the ${side} endpoint`;

  if (name === 'AbortError' || e.code === 'ABORT_ERR' || e.code === 'UND_ERR_ABORTED') {
    return new TributaryError('TRIB_ERR_CANCELLED', `${where}: cancelled`, { cause: error });
  }
  if (e.$notS3 !== undefined) {
    return new TributaryError(code(side, 'NOT_S3'), `${where}: ${endpoint} is not an S3 endpoint: ${e.$notS3}; check ${side}.endpoint`, {
      cause: error,
      field: `${side}.endpoint`,
      reason: 'not-s3',
    });
  }
  const tls = tlsCode(error);
  if (tls !== undefined) {
    return new TributaryError(
      code(side, 'TLS'),
      `${where}: the ${side}'s TLS certificate is not trusted (${tls}); give its certificate authority in ${side}.caBundle`,
      { cause: error, field: `${side}.caBundle`, reason: 'tls' },
    );
  }
  if (status === undefined && isPlainHttpUnderTls(error)) {
    return new TributaryError(code(side, 'TLS'), `${where}: ${endpoint} answers plain HTTP, not TLS: use http:// in ${side}.endpoint`, {
      cause: error,
      field: `${side}.endpoint`,
      reason: 'tls',
    });
  }
  const ssl = status === undefined ? sslCode(error) : undefined;
  if (ssl !== undefined) {
    return new TributaryError(
      code(side, 'TLS'),
      `${where}: the TLS handshake with ${endpoint} failed (${ssl}): ${e.message ?? ''}`.trim(),
      { cause: error, field: `${side}.endpoint`, reason: 'tls' },
    );
  }
  const net = networkCode(error);
  const netReason: OutageReason = (net === undefined ? undefined : NETWORK_REASON[net]) ?? 'network';
  if (net !== undefined && status === undefined) {
    return new TributaryError(code(side, 'UNREACHABLE'), `${where}: ${side} endpoint unreachable (${net}): ${e.message ?? ''}`, {
      cause: error,
      reason: netReason,
    });
  }
  // S3 sends 301 PermanentRedirect (with x-amz-bucket-region) when the bucket is in another
  // region than the endpoint, 307 while a new bucket's DNS settles. Every request would get it.
  if (status === 301 || status === 307 || name === 'PermanentRedirect' || name === 'TemporaryRedirect') {
    const region = e.$response?.headers?.['x-amz-bucket-region'];
    return new TributaryError(
      side === 'edge' ? 'TRIB_ERR_EDGE_REDIRECT' : 'TRIB_ERR_CORE_REDIRECT',
      region
        ? `${where}: the ${side} redirects (${detail}): the bucket is in region ${region}; set ${side}.region: ${region} and an endpoint of that region`
        : `${where}: the ${side} redirects (${detail}); check ${side}.endpoint, ${side}.region and ${side}.forcePathStyle`,
      { cause: error, field: `${side}.region` },
    );
  }
  if (AUTH.has(name)) {
    return new TributaryError(code(side, 'AUTH'), `${where}: the ${side} rejected the credentials (${name}); check ${side}.credentials`, {
      cause: error,
      field: `${side}.credentials`,
      reason: 'auth',
    });
  }
  if (name === 'NoSuchBucket') {
    return new TributaryError(
      code(side, 'BUCKET_MISSING'),
      `${where}: bucket does not exist (NoSuchBucket); check ${side === 'edge' ? 'edge.buckets' : 'core.bucket'}`,
      {
        cause: error,
        field: side === 'edge' ? 'edge.buckets' : 'core.bucket',
      },
    );
  }
  // A 503 is S3's "slow down" unless it says it is an internal error (what the SDK makes of an
  // <Error>InternalError</Error> in the 200 answer to CompleteMultipartUpload): that one is a
  // server error, which uses up attempts, or it would be retried for ever.
  if (THROTTLE.has(name) || status === 429 || (status === 503 && name !== 'InternalError')) {
    const retryAfter = retryAfterSeconds(e);
    return new TributaryError(code(side, 'THROTTLED'), `${where}: throttled by the server: ${detail}`, {
      cause: error,
      ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
    });
  }
  if (name === 'AccessDenied' || status === 403) {
    return new TributaryError(code(side, 'ACCESS_DENIED'), `${where}: access denied: ${detail}`, { cause: error });
  }
  if (side === 'edge' && (name === 'NoSuchKey' || name === 'NotFound' || status === 404)) {
    return new TributaryError('TRIB_ERR_SOURCE_GONE', `${where}: the object no longer exists at the edge`, { cause: error });
  }
  if (side === 'edge' && (name === 'PreconditionFailed' || status === 412 || name === 'InvalidRange' || status === 416)) {
    return new TributaryError('TRIB_ERR_SOURCE_CHANGED', `${where}: the object changed since it was listed`, { cause: error });
  }
  if (side === 'core' && name === 'NoSuchUpload') {
    return new TributaryError('TRIB_ERR_CORE_UPLOAD_LOST', `${where}: the core no longer knows the multipart upload (NoSuchUpload)`, {
      cause: error,
    });
  }
  if (DIGEST.has(name)) {
    return new TributaryError('TRIB_ERR_LAND_MISMATCH', `${where}: the server received different bytes than were sent: ${detail}`, {
      cause: error,
    });
  }
  if (side === 'core' && REJECTED.has(name)) {
    return new TributaryError('TRIB_ERR_CORE_REJECTED', `${where}: the core refused the object: ${detail}`, { cause: error });
  }
  if (
    name.includes('Deserialization') ||
    name === 'SyntaxError' ||
    (/xml|parse|deserializ/i.test(e.message ?? '') && status === undefined)
  ) {
    return new TributaryError(code(side, 'BAD_RESPONSE'), `${where}: malformed response: ${detail}`, { cause: error });
  }
  if (net !== undefined) {
    return new TributaryError(code(side, 'UNREACHABLE'), `${where}: connection failed (${net}): ${detail}`, {
      cause: error,
      reason: netReason,
    });
  }
  return new TributaryError(code(side, 'SERVER'), `${where}: ${detail}`, {
    cause: error,
    ...(status !== undefined && status >= 500 ? { reason: 'http-5xx' as const } : {}),
  });
}

/** SDK send options for an optional AbortSignal (the SDK's type does not accept `undefined`). */
export function sendOptions(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal === undefined ? {} : { abortSignal: signal };
}
