/**
 * Telling "this endpoint is no S3 server" (a web server, a login page, a port that is something
 * else) and "the scheme is wrong" (http:// to a TLS port, https:// to a plain one) apart from an
 * endpoint that is down or an object that is missing, so the operator reads what to fix instead of
 * TRIB_ERR_SOURCE_GONE or a raw OpenSSL message.
 *
 * The evidence is only ever an answer S3 never gives: an error answer whose body is not S3's
 * `<Error>` XML, or a 2xx listing that is not a ListBucketResult. A HEAD is never evidence (S3's
 * HEAD errors have no body either), nor is a 5xx or a 429 (a proxy in front of a real S3 server
 * answers those with its own HTML while the server is down or busy: an outage, not a wrong URL).
 */
import { connect as tlsConnect } from 'node:tls';

import { TributaryError } from '../core/errors.js';
import type { Side } from '../core/side.js';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** What the answer looked like, short enough for one log line: status, type and its first words. */
function describe(status: number, headers: Headers, body: string): string {
  const type = header(headers, 'content-type')?.split(';')[0]?.trim();
  const title = /<title[^>]*>([^<]{1,80})<\/title>/i.exec(body)?.[1]?.trim();
  const start = body.replace(/\s+/g, ' ').trim().slice(0, 80);
  const sample = title !== undefined ? `titled ${JSON.stringify(title)}` : start === '' ? 'with an empty body' : JSON.stringify(start);
  return `it answered HTTP ${status}${type === undefined ? '' : ` (${type})`} ${sample}`;
}

const S3_ERROR = /^\uFEFF?\s*(?:<\?xml[^>]*\?>\s*)?<Error[\s>]/;

/**
 * Why an error answer (status >= 300) to a request with a body in its answer (not a HEAD) cannot
 * come from S3, or undefined when it may.
 */
export function notS3ErrorAnswer(method: string, status: number, headers: Headers, body: string): string | undefined {
  if (method === 'HEAD' || status >= 500 || status === 429 || status === 304) return undefined;
  if (S3_ERROR.test(body)) return undefined;
  const type = header(headers, 'content-type');
  // An empty body says nothing unless the type says it is not XML either.
  if (body.trim() === '' && (type === undefined || /xml/i.test(type))) return undefined;
  return describe(status, headers, body);
}

/** Why a 2xx answer to ListObjectsV2 cannot come from S3, or undefined when it is a listing. */
export function notS3Listing(status: number, headers: Headers, body: string): string | undefined {
  if (/<ListBucketResult[\s>]/.test(body)) return undefined;
  // XML of another kind (an <Error> in a 200, a broken listing): a bad answer, not a wrong URL.
  if (/^\uFEFF?\s*<\?xml|^\uFEFF?\s*<(?:Error|ListBucketResult)\b/.test(body) && !/html/i.test(header(headers, 'content-type') ?? ''))
    return undefined;
  return `${describe(status, headers, body)} to a bucket listing`;
}

/** Why a 2xx answer to a GET of an object cannot come from S3 (a web server's page for any path). */
export function notS3Object(headers: Headers, body = ''): string | undefined {
  const type = header(headers, 'content-type') ?? '';
  return /^text\/html/i.test(type) ? describe(200, headers, body) : undefined;
}

/** Whether a TLS handshake with host:port succeeds (any certificate: only the protocol is asked). */
function speaksTls(host: string, port: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port, rejectUnauthorized: false, ...(/^[\d.:]+$/.test(host) ? {} : { servername: host }) });
    const done = (result: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      socket.destroy();
      resolve(result);
    };
    const abort = () => done(false);
    const timer = setTimeout(abort, 5000);
    signal?.addEventListener('abort', abort, { once: true });
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/**
 * For an endpoint that closed every connection without an HTTP answer: what it is instead, as the
 * error to report. An http:// endpoint that completes a TLS handshake speaks TLS (so the scheme is
 * wrong); anything else that accepts connections and closes them is no S3 endpoint.
 */
export async function diagnoseSilentEndpoint(side: Side, endpoint: string, signal?: AbortSignal): Promise<TributaryError> {
  const url = new URL(endpoint);
  const field = `${side}.endpoint`;
  if (url.protocol === 'http:') {
    const port = url.port === '' ? 80 : Number(url.port);
    if (await speaksTls(url.hostname.replace(/^\[|\]$/g, ''), port, signal)) {
      return new TributaryError(
        side === 'edge' ? 'TRIB_ERR_EDGE_TLS' : 'TRIB_ERR_CORE_TLS',
        `${side} endpoint ${endpoint} speaks TLS: use https:// in ${field}`,
        { field, reason: 'tls' },
      );
    }
  }
  return new TributaryError(
    side === 'edge' ? 'TRIB_ERR_EDGE_NOT_S3' : 'TRIB_ERR_CORE_NOT_S3',
    `${endpoint} is not an S3 endpoint: it closed the connection ${url.protocol === 'https:' ? 'before the TLS handshake was done' : 'without an HTTP answer'}; check ${field}`,
    { field, reason: 'not-s3' },
  );
}
