/**
 * Servers and links that answer wrongly: a byte changed on the way to a core that ignores
 * Content-MD5, edge reads that return other bytes than the object holds (once), a range that is
 * not the one asked for, a GET that answers with another version, a listing that ignores
 * start-after or lies about a size. Whatever happens, nothing is marked done that is not
 * byte-for-byte in the core with the right SHA-256, and the process never dies of it. A rewriting
 * proxy in front of real s3rver instances plays the misbehaviour.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { stringify } from 'yaml';

import { runCli } from '../helpers/cli.js';
import { journalRows } from '../helpers/journal-db.js';
import { getObject, headObject, listKeys, putObject, startTestS3, type TestS3 } from '../helpers/local-s3.js';
import { flipByte, startRewritingProxy, type Exchange, type Rewrite } from '../helpers/rewriting-proxy.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testConfigDocument } from '../helpers/test-config.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const MiB = 1024 * 1024;

/** Small thresholds: buffered up to 64 KiB, streamed up to 5 MiB, multipart in 5 MiB parts above. */
const TRANSFER = { bufferThreshold: '64KiB', multipartThreshold: '5MiB', partSize: '5MiB', concurrency: 4, maxAttempts: 6 };

function configFor(
  dir: string,
  edge: TestS3,
  core: TestS3,
  endpoints: { edge?: string; core?: string },
  extra: Record<string, unknown> = {},
): string {
  const doc = testConfigDocument(dir, edge, core, { extra: { transfer: TRANSFER, ...extra } });
  if (endpoints.edge !== undefined) (doc['edge'] as Record<string, unknown>)['endpoint'] = endpoints.edge;
  if (endpoints.core !== undefined) (doc['core'] as Record<string, unknown>)['endpoint'] = endpoints.core;
  const file = join(dir, 'tributary.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

/**
 * Every object in the core byte-for-byte, with the SHA-256 of those bytes in its metadata and in
 * the journal, and `verify --deep` agrees.
 */
async function assertLandedExactly(core: TestS3, dir: string, config: string, objects: ReadonlyMap<string, Buffer>): Promise<void> {
  const rows = journalRows(join(dir, 'journal'));
  for (const [key, body] of objects) {
    const coreKey = `site-a/edge/${key}`;
    assert.ok((await getObject(core, 'lake', coreKey)).equals(body), `${coreKey}: the core holds other bytes`);
    const head = await headObject(core, 'lake', coreKey);
    assert.equal(head.Metadata?.['tributary-sha256'], sha256(body), `${coreKey}: metadata SHA-256`);
    const row = rows.filter((r) => r.key === key).at(-1);
    assert.equal(row?.state, 'done', key);
    assert.equal(row?.sha256, sha256(body), `${key}: journal SHA-256`);
  }
  const verify = await runCli(['verify', '--deep', '-c', config]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
}

/** The object key of a path-style request to `bucket`, and whether it is a ranged or part request. */
function objectKey(request: Exchange, bucket: string): string | undefined {
  const path = request.url.split('?')[0]!;
  return path.startsWith(`/${bucket}/`) ? decodeURIComponent(path.slice(bucket.length + 2)) : undefined;
}

test('a core that ignores Content-MD5 and gets a changed byte in the first upload of each object: the retry uploads again, never keeps the bad copy', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const objects = new Map([
    ['b/small.bin', randomBytes(40 * 1024)],
    ['s/streamed.bin', randomBytes(300 * 1024)],
  ]);
  for (const [key, body] of objects) await putObject(edge, 'edge', key, body);
  const flipped = new Set<string>();
  const proxy = await startRewritingProxy(core.port, (request): Rewrite | undefined => {
    const key = objectKey(request, 'lake');
    if (request.method !== 'PUT' || key === undefined || !key.startsWith('site-a/edge/') || flipped.has(key)) return undefined;
    flipped.add(key);
    return { request: (r) => ({ ...r, body: flipByte(r.body) }) };
  });
  t.after(() => proxy.close());

  const config = configFor(dir, edge, core, { core: proxy.endpoint });
  const sync = await runCli(['sync', '--once', '-c', config]);
  assert.equal(sync.code, 0, sync.stderr);
  assert.deepEqual([...flipped].sort(), ['site-a/edge/b/small.bin', 'site-a/edge/s/streamed.bin']);
  assert.match(sync.stderr, /TRIB_ERR_LAND_MISMATCH/);
  await assertLandedExactly(core, dir, config, objects);
});

test('a core that keeps storing other bytes than were sent: the object is dead with the reason, and no wrong copy is left in the lake', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  await putObject(edge, 'edge', 'b/always.bin', randomBytes(20 * 1024));
  await putObject(edge, 'edge', 'b/fine.bin', randomBytes(20 * 1024));
  const proxy = await startRewritingProxy(core.port, (request): Rewrite | undefined =>
    request.method === 'PUT' && objectKey(request, 'lake') === 'site-a/edge/b/always.bin'
      ? { request: (r) => ({ ...r, body: flipByte(r.body) }) }
      : undefined,
  );
  t.after(() => proxy.close());
  const config = configFor(dir, edge, core, { core: proxy.endpoint }, { transfer: { ...TRANSFER, maxAttempts: 2 } });
  const sync = await runCli(['sync', '--once', '-c', config]);
  assert.equal(sync.code, 1, sync.stderr);
  const rows = journalRows(join(dir, 'journal'));
  assert.equal(rows.find((r) => r.key === 'b/always.bin')?.state, 'dead');
  assert.equal(rows.find((r) => r.key === 'b/always.bin')?.last_error_code, 'TRIB_ERR_LAND_MISMATCH');
  assert.deepEqual(await listKeys(core, 'lake', 'site-a/'), ['site-a/edge/b/fine.bin']);
});

test('edge reads that return other bytes once, a shifted range, a body cut off, another version: each is caught, retried and lands exactly', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const objects = new Map([
    ['b/flipped.bin', randomBytes(30 * 1024)],
    ['s/hash-pass-flipped.bin', randomBytes(400 * 1024)],
    ['m/part-flipped.bin', randomBytes(11 * MiB + 123)],
    ['m/range-shifted.bin', randomBytes(10 * MiB + 7)],
    ['e/other-version.json', Buffer.from('{"v":1}\n'.repeat(100))],
    ['c/cut-off.bin', randomBytes(48 * 1024)],
  ]);
  for (const [key, body] of objects) await putObject(edge, 'edge', key, body);
  const done = new Set<string>();
  const once = (name: string) => (done.has(name) ? false : (done.add(name), true));
  const proxy = await startRewritingProxy(edge.port, (request): Rewrite | undefined => {
    const key = objectKey(request, 'edge');
    if (request.method !== 'GET' || key === undefined) return undefined;
    const range = request.headers['range'];
    // The whole-object GET of a buffered object, and the hashing pass of a streamed one.
    if ((key === 'b/flipped.bin' || key === 's/hash-pass-flipped.bin') && range === undefined && once(key)) {
      return { answer: (a) => ({ ...a, body: flipByte(a.body) }) };
    }
    if (key === 'm/part-flipped.bin' && range === `bytes=${5 * MiB}-${10 * MiB - 1}` && once(key)) {
      return { answer: (a) => ({ ...a, body: flipByte(a.body, 10) }) };
    }
    // The second part asked for, answered with the bytes one earlier (same length).
    if (key === 'm/range-shifted.bin' && range === `bytes=${5 * MiB}-${10 * MiB - 1}` && once(key)) {
      return {
        request: (r) => ({ ...r, headers: { ...r.headers, range: `bytes=${5 * MiB - 1}-${10 * MiB - 2}` } }),
      };
    }
    // The connection closes before the body's Content-Length is reached.
    if (key === 'c/cut-off.bin' && once(key)) return { answer: (a) => ({ ...a, cutAfter: 1000 }) };
    // A server that ignores If-Match, with the object overwritten since the listing.
    if (key === 'e/other-version.json' && once(key)) {
      return { answer: (a) => ({ ...a, headers: { ...a.headers, etag: '"0123456789abcdef0123456789abcdef"' } }) };
    }
    return undefined;
  });
  t.after(() => proxy.close());

  const config = configFor(dir, edge, core, { edge: proxy.endpoint });
  const sync = await runCli(['sync', '--once', '-c', config]);
  assert.equal(sync.code, 0, sync.stderr);
  assert.equal(done.size, 6, [...done].join());
  assert.doesNotMatch(sync.stderr, /Unhandled|UND_ERR_ABORTED/);
  // Blamed on the edge, not the core.
  for (const key of ['b/flipped.bin', 's/hash-pass-flipped.bin', 'm/part-flipped.bin']) {
    assert.match(sync.stderr, new RegExp(`"key":"${key.replace('.', '\\.')}"[^\\n]*TRIB_ERR_SOURCE_CORRUPT`), key);
  }
  assert.match(sync.stderr, /"key":"m\/range-shifted\.bin"[^\n]*TRIB_ERR_EDGE_BAD_RESPONSE[^\n]*206 for bytes/);
  assert.match(sync.stderr, /"key":"c\/cut-off\.bin"[^\n]*TRIB_ERR_EDGE_BAD_RESPONSE[^\n]*the read broke off after 1000 bytes/);
  await assertLandedExactly(core, dir, config, objects);
});

test('a listing that ignores start-after ends the pass with a clear error instead of listing forever', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  for (let i = 0; i < 5; i += 1) await putObject(edge, 'edge', `k/${i}.json`, `{"i":${i}}\n`);
  const proxy = await startRewritingProxy(edge.port, (request) =>
    request.url.includes('start-after=') ? { request: (r) => ({ ...r, url: r.url.replace(/&?start-after=[^&]*/, '') }) } : undefined,
  );
  t.after(() => proxy.close());
  const config = configFor(dir, edge, core, { edge: proxy.endpoint }, { scan: { pageSize: 2 } });
  const sync = await runCli(['sync', '--once', '-c', config], { timeoutMs: 60_000 });
  assert.equal(sync.code, 1, sync.stderr);
  assert.match(sync.stderr, /TRIB_ERR_EDGE_BAD_RESPONSE/);
  assert.match(sync.stderr, /does the server ignore start-after/);
  assert.ok(proxy.seen.filter((line) => line.includes('list-type=2')).length < 10, `${proxy.seen.length} requests`);
});

test('a listing that lies about sizes: a negative size is refused naming the key, a non-empty object listed as empty is never landed empty', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  await putObject(edge, 'edge', 'z/listed-empty.bin', randomBytes(1024));
  await putObject(edge, 'edge', 'a/fine.json', '{"ok":true}\n');
  let size = '0';
  const proxy = await startRewritingProxy(edge.port, (request) =>
    request.url.includes('list-type=2')
      ? {
          answer: (a) => ({
            ...a,
            body: Buffer.from(
              a.body.toString().replace(/(<Key>z(?:\/|%2F)listed-empty\.bin<\/Key>[\s\S]*?<Size>)\d+(<\/Size>)/, `$1${size}$2`),
            ),
          }),
        }
      : undefined,
  );
  t.after(() => proxy.close());
  const config = configFor(dir, edge, core, { edge: proxy.endpoint }, { transfer: { ...TRANSFER, maxAttempts: 2 } });

  const sync = await runCli(['sync', '--once', '-c', config]);
  assert.equal(sync.code, 1, sync.stderr);
  assert.match(sync.stderr, /body of 1024 bytes, expected 0/);
  // Every read of it contradicts the listing: dead after transfer.maxAttempts, with the reason.
  assert.deepEqual(
    journalRows(join(dir, 'journal')).map((r) => [r.key, r.state, r.attempts, r.last_error_code]),
    [
      ['a/fine.json', 'done', 0, null],
      ['z/listed-empty.bin', 'dead', 2, 'TRIB_ERR_EDGE_BAD_RESPONSE'],
    ],
  );
  assert.deepEqual(await listKeys(core, 'lake', 'site-a/edge/z/'), []);

  size = '-1024';
  const negative = await runCli(['sync', '--once', '-c', config]);
  assert.equal(negative.code, 1, negative.stderr);
  assert.match(negative.stderr, /the entry for \\?"z\/listed-empty\.bin\\?" has no valid Key, Size or LastModified \(Size \\?"-1024\\?"/);
});

test('a core that redirects to another region stops the run at once with exit 2, naming the region to set', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  await putObject(edge, 'edge', 'a.json', '{}\n');
  const redirect = { 'x-amz-bucket-region': 'eu-central-1', 'content-type': 'application/xml' };
  const body = Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message></Error>',
  );
  const proxy = await startRewritingProxy(core.port, () => ({ answer: () => ({ status: 301, headers: redirect, body }) }));
  t.after(() => proxy.close());
  const config = configFor(dir, edge, core, { core: proxy.endpoint });
  const sync = await runCli(['sync', '--once', '-c', config], { timeoutMs: 60_000 });
  assert.equal(sync.code, 2, sync.stderr);
  assert.match(sync.stderr, /TRIB_ERR_CORE_REDIRECT/);
  assert.match(sync.stderr, /set core\.region: eu-central-1/);
  assert.deepEqual(journalRows(join(dir, 'journal')), [], 'the redirect stops the run before the scan journals anything');
});
