/**
 * The lean signer against the SDK's own SigV4 signer (@smithy/signature-v4, configured as the SDK
 * configures it for S3): the same Authorization and x-amz-* headers for a corpus of requests with
 * odd keys, queries, header spacing, session tokens and unsignable headers, at several dates.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, type Hash } from 'node:crypto';
import { test } from 'node:test';

import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';

import { encodeKey } from '../../../src/s3/s3-http.js';
import { canonicalQuery, createSigV4Signer } from '../../../src/s3/sigv4.js';

/** node:crypto behind the Checksum interface the SDK's signer expects (SHA-256, or HMAC with a key). */
class Sha256 {
  private hash: Hash | ReturnType<typeof createHmac>;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.create();
  }
  private create(): Hash | ReturnType<typeof createHmac> {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret as Buffer);
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.create();
  }
}

interface Case {
  readonly method: string;
  readonly key: string | undefined;
  readonly query: Record<string, string>;
  readonly headers: Record<string, string>;
}

const KEYS = [
  'plain/key.json',
  'spaces in key/and+plus.txt',
  'ünïcödé/日本語/😀.bin',
  'a%2Fb/%41',
  "quote's(paren)*star!bang",
  '~tilde-_.dot',
  '../x',
  '//d',
  'x'.repeat(900),
];

const REQUESTS: Case[] = KEYS.flatMap((key, i): Case[] => [
  { method: 'GET', key, query: {}, headers: { 'if-match': '"0123456789abcdef0123456789abcdef"' } },
  {
    method: 'PUT',
    key,
    query: {},
    headers: {
      'content-md5': 'AAAAAAAAAAAAAAAAAAAAAA==',
      'content-type': 'application/octet-stream',
      'x-amz-meta-tributary-source-key': encodeURIComponent(key),
      'x-amz-meta-tributary-note': '  several   spaces\tand a tab  ',
      'content-length': String(i * 100),
    },
  },
  {
    method: 'HEAD',
    key,
    query: { partNumber: '1', versionId: `v/${i}` },
    headers: { 'User-Agent': 'tributary/0.1', Expect: '100-continue' },
  },
]).concat([
  {
    method: 'GET',
    key: undefined,
    query: { 'list-type': '2', prefix: 'a b/ü', 'continuation-token': 'x+y/z==', 'start-after': '*(!)', 'encoding-type': 'url' },
    headers: {},
  },
  { method: 'DELETE', key: 'k', query: {}, headers: { 'X-Mixed-Case': 'Value', 'proxy-authorization': 'x', 'sec-fetch-mode': 'cors' } },
  { method: 'POST', key: 'multipart/object.bin', query: { uploads: '' }, headers: { 'content-type': 'application/octet-stream' } },
  {
    method: 'PUT',
    key: 'multipart/object.bin',
    query: { partNumber: '10', uploadId: 'abc/def+ghi==' },
    headers: { 'content-length': '5242880' },
  },
]);

// In this order: the signer keeps the date of the last second it signed in (same second, the next
// one, a jump forward, one back, a day boundary).
const DATES = [
  '2026-11-27T16:38:59.123Z',
  '2026-11-27T16:38:59.999Z',
  '2026-11-27T16:39:00.000Z',
  '2027-01-01T00:00:00.000Z',
  '2026-02-28T23:59:59.999Z',
  '2026-03-01T00:00:00.000Z',
].map((iso) => new Date(iso));

for (const session of [undefined, 'FwoGZXIvYXdzE//session+token=']) {
  test(`signatures equal the SDK signer's${session ? ' (session credentials)' : ''}`, async () => {
    const credentials = {
      accessKeyId: 'AKIAEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      ...(session ? { sessionToken: session } : {}),
    };
    for (const region of ['us-east-1', 'eu-central-1']) {
      const ours = createSigV4Signer({ credentials: async () => credentials, region, service: 's3' });
      const sdk = new SignatureV4({ credentials, region, service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: false });
      for (const date of DATES) {
        for (const request of REQUESTS) {
          const path = request.key === undefined ? '/bucket' : `/bucket/${encodeKey(request.key)}`;
          const headers = { host: '127.0.0.1:9000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...request.headers };
          const mine = await ours.sign({ method: request.method, path, search: canonicalQuery(request.query), headers }, date);
          const theirs = await sdk.sign(
            {
              method: request.method,
              protocol: 'http:',
              hostname: '127.0.0.1',
              port: 9000,
              path,
              query: { ...request.query },
              headers: { ...headers },
            },
            { signingDate: date },
          );
          const label = `${request.method} ${path.slice(0, 60)} ${date.toISOString()} ${region}`;
          assert.equal(mine['authorization'], theirs.headers['authorization'], label);
          assert.equal(mine['x-amz-date'], theirs.headers['x-amz-date'], label);
          assert.equal(mine['x-amz-security-token'], theirs.headers['x-amz-security-token'], label);
        }
      }
    }
  });
}

test('a second secret on the same day gets its own signing key', async () => {
  let secret = 'first-secret';
  const signer = createSigV4Signer({
    credentials: async () => ({ accessKeyId: 'AK', secretAccessKey: secret }),
    region: 'us-east-1',
    service: 's3',
  });
  const request = { method: 'GET', path: '/b/k', search: '', headers: { host: 'h', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } };
  const at = new Date('2026-11-27T10:00:00Z');
  const first = (await signer.sign(request, at))['authorization'];
  secret = 'rotated-secret';
  const second = (await signer.sign(request, at))['authorization'];
  const sdk = new SignatureV4({
    credentials: { accessKeyId: 'AK', secretAccessKey: 'rotated-secret' },
    region: 'us-east-1',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const expected = (
    await sdk.sign(
      { method: 'GET', protocol: 'http:', hostname: 'h', path: '/b/k', query: {}, headers: { ...request.headers } },
      { signingDate: at },
    )
  ).headers['authorization'];
  assert.notEqual(first, second);
  assert.equal(second, expected);
});

test('invalid credentials are refused before anything is signed', async () => {
  const signer = createSigV4Signer({ credentials: async () => ({}) as never, region: 'us-east-1', service: 's3' });
  await assert.rejects(signer.sign({ method: 'GET', path: '/', search: '', headers: {} }), /credential/);
});

test('the canonical query sorts by encoded name and encodes values strictly', () => {
  assert.equal(
    canonicalQuery({ 'start-after': "a'b", 'list-type': '2', Prefix: 'x y', 'encoding-type': 'url' }),
    'Prefix=x%20y&encoding-type=url&list-type=2&start-after=a%27b',
  );
});

test('keys are URI-encoded per segment, unreserved characters and "/" as they are', () => {
  const reference = (key: string) =>
    key
      .split('/')
      .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
      .join('/');
  for (const key of [...KEYS, '', 'a-b_c.d~e/f', 'x/', '/y', 'with space', 'a\\b', 'Ω/%', '100%'])
    assert.equal(encodeKey(key), reference(key), key);
  assert.equal(encodeKey('a b/c+d'), 'a%20b/c%2Bd');
});
