/**
 * A lean S3 REST client for the per-object hot path (GET at the edge; PUT and HEAD at the core).
 *
 * Why not the AWS SDK here: its middleware stack costs about 1 ms of CPU per request on this
 * class of machine, which for small objects is most of the copier's CPU and the reason a Node
 * copier loses to rclone (docs/adr/0003-lean-http-for-small-objects.md). This client keeps what
 * matters (SigV4, from sigv4.ts and checked against the SDK's signer; keep-alive pools; timeouts;
 * a bounded retry of one request; S3 error codes parsed from the answer) and nothing else. Its
 * errors have the shape the SDK's have (`name`, `$metadata.httpStatusCode`, `$response.headers`),
 * so `mapS3Error` classifies both the same way. Multipart uploads still go through the SDK.
 */
import type { Readable } from 'node:stream';
import * as tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';

import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { Pool, type Dispatcher } from 'undici';

import { backoffDelayMs } from '../schedule/policy/backoff.js';
import { notS3ErrorAnswer } from './not-s3.js';
import { canonicalQuery, createSigV4Signer, strictEncode } from './sigv4.js';

/** S3's URI encoding of a key: every byte but the unreserved ones, `/` kept as the separator. */
export function encodeKey(key: string): string {
  if (/^[A-Za-z0-9\-._~/]*$/.test(key)) return key;
  return key.split('/').map(strictEncode).join('/');
}

export interface S3HttpSettings {
  readonly endpoint: string;
  readonly region: string;
  readonly forcePathStyle: boolean;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  readonly requestTimeout: number;
  readonly maxAttempts: number;
  readonly connections: number;
  /** Extra certificate authorities (PEM) trusted on top of the system ones. */
  readonly ca?: string;
}

export interface S3HttpRequest {
  readonly method: 'GET' | 'PUT' | 'HEAD' | 'DELETE';
  readonly bucket: string;
  /** The object key; undefined for a request on the bucket itself (a listing). */
  readonly key?: string | undefined;
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** A Buffer (retried on a transient failure) or a stream of `contentLength` bytes (sent once). */
  readonly body?: Buffer | Readable;
  readonly contentLength?: number;
  readonly signal?: AbortSignal | undefined;
}

export interface S3HttpResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body stream (GET; a Readable with text() and dump()); already consumed for other methods. */
  readonly body: Dispatcher.ResponseData['body'];
}

export interface S3Http {
  send(request: S3HttpRequest): Promise<S3HttpResponse>;
  close(): Promise<void>;
}

/** The first value of an answer's header (undici gives a list for a repeated one). */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * An error shaped like the SDK's, so one mapping classifies both; with `$notS3` when the answer is
 * one no S3 server gives (not-s3.ts), which mapS3Error reports as TRIB_ERR_*_NOT_S3.
 */
export function s3HttpError(statusCode: number, headers: S3HttpResponse['headers'], body: string, method = 'GET'): Error {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  const fallback =
    statusCode === 404 ? 'NotFound' : statusCode === 403 ? 'Forbidden' : statusCode === 412 ? 'PreconditionFailed' : `Http${statusCode}`;
  const flat: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  const notS3 = notS3ErrorAnswer(method, statusCode, headers, body);
  return Object.assign(new Error(message ?? `HTTP ${statusCode}`), {
    name: code ?? fallback,
    $metadata: { httpStatusCode: statusCode },
    $response: { statusCode, headers: flat },
    ...(notS3 === undefined ? {} : { $notS3: notS3 }),
  });
}

const RETRYABLE_STATUS = new Set([500, 502, 503, 504]);

function isRetryableNetworkError(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? '';
  return /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|UND_ERR_SOCKET|UND_ERR_CONNECT_TIMEOUT|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT|UND_ERR_CLOSED)$/.test(
    code,
  );
}

export function createS3Http(settings: S3HttpSettings): S3Http {
  const base = new URL(settings.endpoint);
  const pools = new Map<string, Pool>();
  const poolFor = (origin: string): Pool => {
    let pool = pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: settings.connections,
        headersTimeout: settings.requestTimeout,
        bodyTimeout: settings.requestTimeout,
        connectTimeout: Math.min(settings.requestTimeout, 10_000),
        keepAliveTimeout: 10_000,
        ...(settings.ca === undefined ? {} : { connect: { ca: [...tls.rootCertificates, settings.ca] } }),
      });
      pools.set(origin, pool);
    }
    return pool;
  };
  const signer = createSigV4Signer({ credentials: settings.credentials, region: settings.region, service: 's3' });

  async function once(request: S3HttpRequest): Promise<S3HttpResponse> {
    const host = settings.forcePathStyle ? base.host : `${request.bucket}.${base.host}`;
    const prefix = base.pathname.replace(/\/$/, '');
    const keyPath = request.key === undefined ? '' : `/${encodeKey(request.key)}`;
    const path = settings.forcePathStyle ? `${prefix}/${request.bucket}${keyPath}` : `${prefix}${keyPath || '/'}`;
    const search = canonicalQuery(request.query ?? {});
    const headers: Record<string, string> = {
      host,
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      ...request.headers,
    };
    if (Buffer.isBuffer(request.body)) headers['content-length'] = String(request.body.length);
    else if (request.body !== undefined) headers['content-length'] = String(request.contentLength ?? 0);
    const signedHeaders = await signer.sign({ method: request.method, path, search, headers });
    const origin = `${base.protocol}//${host}`;
    const response = await poolFor(origin).request({
      method: request.method,
      path: search === '' ? path : `${path}?${search}`,
      headers: signedHeaders,
      ...(request.body === undefined ? {} : { body: request.body }),
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    });
    if (response.statusCode >= 300) {
      const text = request.method === 'HEAD' ? '' : (await response.body.text()).slice(0, 65_536);
      if (request.method === 'HEAD') await response.body.dump();
      throw s3HttpError(response.statusCode, response.headers, text, request.method);
    }
    if (request.method !== 'GET') await response.body.dump();
    return { statusCode: response.statusCode, headers: response.headers, body: response.body };
  }

  return {
    async send(request) {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await once(request);
        } catch (error) {
          // undici rejects with the signal's reason (a shutdown aborts with Error('SIGTERM')): a
          // request cut off by its signal is a cancellation, whatever the reason says.
          if (request.signal?.aborted) throw Object.assign(new Error('the request was cancelled'), { name: 'AbortError', cause: error });
          const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
          const retryable = status === undefined ? isRetryableNetworkError(error) : RETRYABLE_STATUS.has(status);
          const resendable = request.body === undefined || Buffer.isBuffer(request.body);
          if (!retryable || !resendable || attempt >= settings.maxAttempts || request.signal?.aborted) {
            // Which endpoint failed, for messages that must name it (not an S3 endpoint, TLS).
            if (error !== null && typeof error === 'object') Object.assign(error, { $endpoint: settings.endpoint });
            throw error;
          }
          const delay = backoffDelayMs(attempt, { baseMs: 100, capMs: 2000 });
          await sleep(delay, undefined, request.signal ? { signal: request.signal } : undefined);
        }
      }
    },
    async close() {
      await Promise.all([...pools.values()].map((pool) => pool.close()));
    },
  };
}
