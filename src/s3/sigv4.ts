/**
 * AWS Signature Version 4 for the lean S3 client's requests (header auth, UNSIGNED-PAYLOAD or a
 * payload hash the caller put in `x-amz-content-sha256`).
 *
 * Why not `@smithy/signature-v4`: it signs the same way, but it costs about 30 µs of CPU per
 * request (promises per hash, a fresh HMAC chain object graph, date formatting, header maps)
 * and 0.03 CPU-s to load at every start; for 4 KiB objects that is 5 % of a copy's CPU
 * (docs/benchmarks.md). This does the same canonicalisation with one SHA-256 and one HMAC per
 * request, the signing key cached per day, region and secret, the date per second. test/unit/s3/sigv4.test.ts
 * checks every signature against the SDK's signer over a corpus of odd requests.
 *
 * The path must already be URI-encoded the S3 way (s3-http.ts encodeKey): S3 signs it as sent,
 * without normalising or encoding it again.
 */
import * as crypto from 'node:crypto';
import { createHash, createHmac } from 'node:crypto';

import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export interface SigV4Request {
  readonly method: string;
  /** Already URI-encoded. */
  readonly path: string;
  /** The canonical query string (canonicalQuery), which is also what the request sends. */
  readonly search: string;
  /** Must include `host` and `x-amz-content-sha256`; names in any case. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface SigV4Signer {
  /** The request's headers plus `x-amz-date`, `x-amz-security-token` (with session credentials) and `authorization`. */
  sign(request: SigV4Request, at?: Date): Promise<Record<string, string>>;
}

/** Headers SigV4 never signs (the SDK's list: proxies, hop-by-hop and agent headers may change in transit). */
const UNSIGNABLE = new Set([
  'authorization',
  'cache-control',
  'connection',
  'expect',
  'from',
  'keep-alive',
  'max-forwards',
  'pragma',
  'referer',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
]);

/** A header value the canonical form changes: line breaks, tabs, runs of spaces, or a space at either end. */
const NEEDS_TRIM = /[\r\n\t]| {2}|^ | $/;

const UNRESERVED_ONLY = /^[A-Za-z0-9\-._~]*$/;

/** SHA-256 in hex: the one-shot `crypto.hash` (Node 20.12) where there is one, half the cost of a Hash object. */
const sha256Hex: (text: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (text) => (crypto as unknown as { hash: (algorithm: string, data: string) => string }).hash('sha256', text)
    : (text) => createHash('sha256').update(text).digest('hex');

/** 2026-11-27T16:38:59.123Z -> 20261127T163859Z, kept for the second it belongs to. */
let lastSecond = -1;
let lastAmzDate = '';
function amzDateOf(at: Date): string {
  const second = Math.floor(at.getTime() / 1000);
  if (second !== lastSecond) {
    const iso = at.toISOString();
    lastAmzDate = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
    lastSecond = second;
  }
  return lastAmzDate;
}

/** RFC 3986 encoding of everything but the unreserved characters, as SigV4 wants it. */
export function strictEncode(text: string): string {
  if (UNRESERVED_ONLY.test(text)) return text;
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The canonical query string: encoded names and values, sorted by encoded name (then value). */
export function canonicalQuery(query: Readonly<Record<string, string>>): string {
  return Object.entries(query)
    .map(([name, value]) => [strictEncode(name), strictEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

export function createSigV4Signer(options: {
  readonly region: string;
  readonly service: string;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}): SigV4Signer {
  const { region, service, credentials } = options;
  let cached: { day: string; secret: string; key: Buffer } | undefined;
  const signingKey = (secret: string, day: string): Buffer => {
    if (cached?.day !== day || cached.secret !== secret) {
      let key = createHmac('sha256', `AWS4${secret}`).update(day).digest();
      for (const part of [region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
      cached = { day, secret, key };
    }
    return cached.key;
  };

  return {
    async sign(request, at = new Date()) {
      const identity = typeof credentials === 'function' ? await credentials() : credentials;
      if (typeof identity?.accessKeyId !== 'string' || typeof identity.secretAccessKey !== 'string') {
        throw new Error('Resolved credential object is not valid');
      }
      const amzDate = amzDateOf(at);
      const day = amzDate.slice(0, 8);
      const headers: Record<string, string> = { ...request.headers, 'x-amz-date': amzDate };
      if (identity.sessionToken) headers['x-amz-security-token'] = identity.sessionToken;

      // One value per lower-cased name (the last one, as the SDK keeps it); undefined is no header.
      const byName = new Map<string, string>();
      for (const name in headers) {
        const value = headers[name];
        if (value === undefined) continue;
        const lower = name.toLowerCase();
        if (UNSIGNABLE.has(lower) || lower.startsWith('proxy-') || lower.startsWith('sec-')) continue;
        byName.set(
          lower,
          NEEDS_TRIM.test(value)
            ? value
                .replace(/[\r\n]/g, ' ')
                .replace(/[ \t]+/g, ' ')
                .replace(/^ | $/g, '')
            : value,
        );
      }
      const names = [...byName.keys()].sort();
      let canonicalHeaders = '';
      for (const name of names) canonicalHeaders += `${name}:${byName.get(name)!}\n`;
      const signedHeaders = names.join(';');
      const payloadHash = headers['x-amz-content-sha256'] ?? 'UNSIGNED-PAYLOAD';
      const canonicalRequest = `${request.method}\n${request.path}\n${request.search}\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
      const scope = `${day}/${region}/${service}/aws4_request`;
      const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
      const signature = createHmac('sha256', signingKey(identity.secretAccessKey, day)).update(stringToSign).digest('hex');
      headers['authorization'] =
        `AWS4-HMAC-SHA256 Credential=${identity.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
      return headers;
    },
  };
}
