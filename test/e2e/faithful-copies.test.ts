/**
 * Faithful copies on real s3rver processes: the core copy carries the edge object's content
 * headers and user metadata beside the lineage, on all three transfer paths (buffered, streamed,
 * multipart); `verify` compares them; what cannot land with them is dead with its reason.
 *
 * s3rver 3.7 stores and returns all six content headers (Content-Type, Content-Encoding,
 * Content-Language, Content-Disposition, Cache-Control, Expires) and every x-amz-meta-* entry for
 * a PUT and for a multipart upload (the headers of CreateMultipartUpload), on GET, ranged GET and
 * HEAD: every one is asserted on the core copy itself. One quirk: a CopyObject onto itself with
 * REPLACE keeps the object's Last-Modified (real S3 gives it a new one), so an edge object whose
 * headers change is written again here, as a new version.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { runCli } from '../helpers/cli.js';
import { journalRows } from '../helpers/journal-db.js';
import {
  getObject,
  headRawHeaders,
  listKeys,
  putObjectWithHeaders,
  replaceObjectHeaders,
  startTestS3,
  type TestS3,
} from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';
import { writeTestConfig } from '../helpers/test-config.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

// Buffered up to 64 KiB, streamed up to 5 MiB, multipart above (parts of 5 MiB).
const TRANSFER = { bufferThreshold: '64KiB', multipartThreshold: '5MiB', partSize: '5MiB' };

const CONTENT_HEADERS = ['content-type', 'content-encoding', 'content-language', 'content-disposition', 'cache-control', 'expires'];

/** Every content header and some user metadata, different for each object. */
function headersFor(name: string): Record<string, string> {
  return {
    'content-type': `application/x-${name}+json`,
    'content-encoding': 'gzip',
    'content-language': 'de-CH',
    'content-disposition': `attachment; filename="${name}.json"`,
    'cache-control': `max-age=${name.length * 60}, must-revalidate`,
    // Not a date: the multipart path must pass it through as it is, not as the SDK's Date.
    expires: name === 'multipart' ? '0' : 'Tue, 01 Jan 2030 00:00:00 GMT',
    'x-amz-meta-owner': `team-${name}`,
    'x-amz-meta-camera': 'gate-3',
    // S3 sends a non-ASCII value RFC 2047-encoded; it passes through as it is.
    'x-amz-meta-label': '=?UTF-8?B?w6l0w6k=?=',
  };
}

/** The content headers and x-amz-meta-* entries of a HEAD's raw answer. */
function carried(raw: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(raw).filter(
      ([name]) => CONTENT_HEADERS.includes(name) || (name.startsWith('x-amz-meta-') && !name.startsWith('x-amz-meta-tributary-')),
    ),
  );
}

async function seed(edge: TestS3, objects: ReadonlyMap<string, { body: Buffer; headers: Record<string, string> }>): Promise<void> {
  for (const [key, { body, headers }] of objects) await putObjectWithHeaders(edge, 'edge', key, body, headers);
}

test('buffered, streamed and multipart copies carry every content header and user entry; verify compares them', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const objects = new Map([
    ['small.json', { body: Buffer.from('{"reading":1}\n'.repeat(100)), headers: headersFor('small') }],
    ['streamed.json', { body: randomBytes(300 << 10), headers: headersFor('streamed') }],
    ['multipart.json', { body: randomBytes((5 << 20) + 17), headers: headersFor('multipart') }],
    // Only the type the SDK gives every PUT (application/octet-stream), no metadata.
    ['plain.txt', { body: Buffer.from('no headers of its own'), headers: {} }],
  ]);
  await seed(edge, objects);
  const config = writeTestConfig(dir, edge, core, { extra: { transfer: TRANSFER } });

  const sync = await runCli(['sync', '--once', '-c', config]);
  assert.equal(sync.code, 0, sync.stderr);
  const multipart = core.requests().filter((r) => r.url.startsWith('/lake/site-a/edge/multipart.json?'));
  assert.equal(multipart.filter((r) => r.method === 'POST' && r.url.endsWith('?uploads=')).length, 1, 'went multipart');
  assert.equal(multipart.filter((r) => r.method === 'PUT' && r.url.includes('partNumber=')).length, 2, 'in two parts');

  for (const [key, { body, headers }] of objects) {
    const coreKey = `site-a/edge/${key}`;
    assert.deepEqual(await getObject(core, 'lake', coreKey), body, coreKey);
    const edgeRaw = await headRawHeaders(edge, 'edge', key);
    const coreRaw = await headRawHeaders(core, 'lake', coreKey);
    // What the edge holds is what was written (s3rver keeps every one of them)...
    for (const [name, value] of Object.entries(headers)) assert.equal(edgeRaw[name], value, `edge ${key} ${name}`);
    // ...and the core copy carries exactly the edge's, with the lineage beside them.
    assert.deepEqual(carried(coreRaw), carried(edgeRaw), coreKey);
    assert.equal(coreRaw['x-amz-meta-tributary-sha256'], sha256(body), coreKey);
    assert.equal(coreRaw['x-amz-meta-tributary-source-key'], encodeURIComponent(key));
  }

  const verify = await runCli(['verify', '-c', config]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.match(verify.stdout, /4 objects checked, 0 missing/);

  // Someone changes headers of two core copies (same bytes, same size and ETag): verify names them.
  const smallCore = await headRawHeaders(core, 'lake', 'site-a/edge/small.json');
  const keepAllBut = (raw: Record<string, string>, drop: string) =>
    Object.fromEntries(
      Object.entries(raw).filter(([name]) => name !== drop && (CONTENT_HEADERS.includes(name) || name.startsWith('x-amz-meta-'))),
    );
  await replaceObjectHeaders(core, 'lake', 'site-a/edge/small.json', {
    ...keepAllBut(smallCore, 'cache-control'),
    'cache-control': 'no-cache',
  });
  const bigCore = await headRawHeaders(core, 'lake', 'site-a/edge/multipart.json');
  await replaceObjectHeaders(core, 'lake', 'site-a/edge/multipart.json', keepAllBut(bigCore, 'x-amz-meta-owner'));

  const tampered = await runCli(['verify', '-c', config]);
  assert.equal(tampered.code, 1, tampered.stdout + tampered.stderr);
  assert.match(tampered.stdout, /different\s+edge\/small\.json: Cache-Control: core "no-cache", edge "max-age=300, must-revalidate"/);
  assert.match(tampered.stdout, /different\s+edge\/multipart\.json: x-amz-meta-owner: core \(none\), edge "team-multipart"/);
  assert.doesNotMatch(tampered.stdout, /streamed\.json|plain\.txt/);
  assert.match(tampered.stdout, /4 objects checked, 2 missing, pending or different/);
});

test('an edge object whose headers changed (same bytes) lands again with them, though the core holds its bytes', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const body = Buffer.from('{"total":12.5}');
  await putObjectWithHeaders(edge, 'edge', 'r1.json', body, { 'content-type': 'text/plain', 'x-amz-meta-till': '4' });
  // Every object is looked for in the core first: a copy with our bytes is found there.
  const config = writeTestConfig(dir, edge, core, { extra: { transfer: { ...TRANSFER, headBeforePut: 'always' } } });
  assert.equal((await runCli(['sync', '--once', '-c', config])).code, 0);

  // Written again with the same bytes and new headers: a new Last-Modified (whole seconds in s3rver).
  await sleep(1100);
  await putObjectWithHeaders(edge, 'edge', 'r1.json', body, { 'content-type': 'application/json', 'x-amz-meta-till': '5' });
  const before = core.requests().length;
  const second = await runCli(['sync', '--once', '-c', config]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /landed 1 /);
  assert.deepEqual(
    core
      .requests()
      .slice(before)
      .filter((r) => r.method === 'PUT' && r.url.startsWith('/lake/site-a/'))
      .map((r) => r.url),
    ['/lake/site-a/edge/r1.json'],
    'sent again, not taken for the copy already there',
  );
  const raw = await headRawHeaders(core, 'lake', 'site-a/edge/r1.json');
  assert.equal(raw['content-type'], 'application/json');
  assert.equal(raw['x-amz-meta-till'], '5');
  assert.equal((await runCli(['verify', '-c', config])).code, 0);
});

test('a user entry named like a lineage entry, or metadata over 2 KiB with the lineage, is dead with its reason; the rest lands', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const big = randomBytes((5 << 20) + 17);
  await putObjectWithHeaders(edge, 'edge', 'good.json', '{}', { 'content-type': 'application/json', 'x-amz-meta-owner': 'a' });
  await putObjectWithHeaders(edge, 'edge', 'conflict.json', '{"a":1}', { 'x-amz-meta-tributary-site': 'somewhere-else' });
  await putObjectWithHeaders(edge, 'edge', 'too-large.bin', big, { 'x-amz-meta-notes': 'n'.repeat(1800) });
  const config = writeTestConfig(dir, edge, core, { extra: { transfer: TRANSFER } });

  const sync = await runCli(['sync', '--once', '-c', config]);
  assert.equal(sync.code, 1, 'two objects did not land');
  assert.deepEqual(await listKeys(core, 'lake', 'site-a/'), ['site-a/edge/good.json']);
  assert.deepEqual(
    core.requests().filter((r) => (r.method === 'PUT' || r.method === 'POST') && /conflict|too-large/.test(r.url)),
    [],
    'nothing of theirs was sent: no PUT, no multipart upload',
  );
  const rows = new Map(journalRows(join(dir, 'journal')).map((r) => [r.key, r]));
  assert.equal(rows.get('good.json')?.state, 'done');
  assert.equal(rows.get('conflict.json')?.state, 'dead');
  assert.equal(rows.get('conflict.json')?.last_error_code, 'TRIB_ERR_METADATA_CONFLICT');
  assert.equal(rows.get('conflict.json')?.attempts, 1, 'permanent: no retries');
  assert.equal(rows.get('too-large.bin')?.state, 'dead');
  assert.equal(rows.get('too-large.bin')?.last_error_code, 'TRIB_ERR_METADATA_TOO_LARGE');

  const status = await runCli(['status', '-c', config]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /2 dead/);
  assert.match(
    status.stdout,
    /dead\s+edge\/conflict\.json \(attempts 1\) TRIB_ERR_METADATA_CONFLICT: edge edge\/conflict\.json: user metadata x-amz-meta-tributary-site has the name of a lineage entry/,
  );
  assert.match(
    status.stdout,
    /dead\s+edge\/too-large\.bin \(attempts 1\) TRIB_ERR_METADATA_TOO_LARGE: edge edge\/too-large\.bin: user metadata of 1805 bytes and lineage of \d+ bytes make \d+, over S3's limit of 2048/,
  );

  // The operator renames the entry at the edge and re-queues the object: it lands.
  await replaceObjectHeaders(edge, 'edge', 'conflict.json', { 'x-amz-meta-origin-site': 'somewhere-else' });
  const retry = await runCli(['retry', '--code', 'TRIB_ERR_METADATA_CONFLICT', '-c', config]);
  assert.equal(retry.code, 0, retry.stderr);
  assert.equal((await runCli(['sync', '--once', '-c', config])).code, 1, 'too-large.bin is still dead');
  const landed = await headRawHeaders(core, 'lake', 'site-a/edge/conflict.json');
  assert.equal(landed['x-amz-meta-origin-site'], 'somewhere-else');
  assert.equal(landed['x-amz-meta-tributary-site'], 'site-a');
});
