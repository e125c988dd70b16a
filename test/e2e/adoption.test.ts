/**
 * A new journal adopts what the core already holds (issue 12, point 6): after a sync, the journal
 * folder is deleted (a lost disk, a reinstalled site) and the next sync sends no object data, leaves
 * every core object as it was (Last-Modified) and writes no manifest line again, at the cost of
 * the core's listing pages and one HEAD for the object whose core ETag is a multipart one. What
 * changed at the edge since, and a core copy that differs, are sent, not adopted.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { stringify } from 'yaml';

import { runCli } from '../helpers/cli.js';
import { journalRows } from '../helpers/journal-db.js';
import { getObject, headObject, listKeys, putObject, startTestS3, type TestS3 } from '../helpers/local-s3.js';
import { startRewritingProxy } from '../helpers/rewriting-proxy.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testConfigDocument } from '../helpers/test-config.js';

const MiB = 1024 * 1024;
const PAGE = 3;
const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

async function lastModified(core: TestS3, keys: readonly string[]): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  for (const key of keys) times.set(key, (await headObject(core, 'lake', key)).LastModified!.getTime());
  return times;
}

test('a deleted journal: the next sync adopts everything the core holds and sends nothing; then only what changed is sent', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const objects = new Map<string, Buffer>([
    ['a/1.json', Buffer.from('{"n":1}\n')],
    ['a/2.json', Buffer.from('{"n":2}\n')],
    ['a/3.json', Buffer.from('{"n":3}\n')],
    ['b/streamed.bin', randomBytes(300 * 1024)],
    ['c/changed.json', Buffer.from('{"version":1}\n')],
    ['d/core-differs.json', Buffer.from('{"core":"same"}\n')],
    ['m/big.bin', randomBytes(11 * MiB + 5)],
  ]);
  for (const [key, body] of objects) await putObject(edge, 'edge', key, body);
  const coreKeys = [...objects.keys()].map((key) => `site-a/edge/${key}`);

  // Multipart above 5 MiB, and pages of 3 keys for the edge and the core listings.
  const transfer = { bufferThreshold: '64KiB', multipartThreshold: '5MiB', partSize: '5MiB' };
  const writeConfig = (endpoint: string): string => {
    const doc = testConfigDocument(dir, edge, core, { extra: { transfer, scan: { pageSize: PAGE } } });
    (doc['core'] as Record<string, unknown>)['endpoint'] = endpoint;
    const file = join(dir, 'tributary.yaml');
    writeFileSync(file, stringify(doc));
    return file;
  };
  const first = await runCli(['sync', '--once', '-c', writeConfig(core.endpoint)]);
  assert.equal(first.code, 0, first.stderr);
  const manifestsBefore = await listKeys(core, 'lake', '_tributary/manifests/');
  assert.equal(manifestsBefore.length, 1);
  const landedAt = await lastModified(core, coreKeys);

  // s3rver gives a multipart upload the plain MD5 of the whole object as its ETag; real S3 gives
  // `<md5 of the part MD5s>-<parts>`. The core's listings are rewritten to show that, so the
  // multipart copy can only be proven by a HEAD of its lineage.
  const bigMd5 = md5(objects.get('m/big.bin')!);
  const multipartEtag = `${md5(Buffer.from(bigMd5, 'hex'))}-3`;
  const proxy = await startRewritingProxy(core.port, (request) =>
    request.method === 'GET' && request.url.includes('list-type=2')
      ? { answer: (a) => ({ ...a, body: Buffer.from(a.body.toString().replaceAll(bigMd5, multipartEtag)) }) }
      : undefined,
  );
  t.after(() => proxy.close());
  const config = writeConfig(proxy.endpoint);

  // A lost journal; Last-Modified has whole seconds: a second PUT would show.
  await sleep(1100);
  rmSync(join(dir, 'journal'), { recursive: true });
  let mark = core.requests().length;
  const second = await runCli(['sync', '--once', '-c', config, '--log-level', 'info']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^sync: listed 7, adopted 7 the core already holds, landed 0 /);
  assert.match(second.stderr, /"adopted":7,"bytes":\d+,"msg":"adopted what the core already holds/);
  let requests = core.requests().slice(mark);
  assert.deepEqual(
    requests.filter((r) => r.method === 'PUT' || r.method === 'POST').map((r) => `${r.method} ${r.url}`),
    ['PUT /lake/_tributary/sites/site-a/heartbeat.json'],
    'no object data and no manifest: only the run’s heartbeat',
  );
  const lists = requests.filter((r) => r.method === 'GET' && r.url.includes('list-type=2'));
  assert.equal(lists.length, Math.ceil(objects.size / PAGE), lists.map((r) => r.url).join('\n'));
  for (const list of lists) assert.match(list.url, /[?&]prefix=site-a%2Fedge%2F(&|$)/);
  assert.deepEqual(
    requests.filter((r) => r.method === 'HEAD').map((r) => r.url),
    ['/lake/site-a/edge/m/big.bin'],
  );
  assert.deepEqual(await lastModified(core, coreKeys), landedAt, 'no core object was written again');
  assert.deepEqual(await listKeys(core, 'lake', '_tributary/manifests/'), manifestsBefore);
  const adopted = journalRows(join(dir, 'journal'));
  assert.ok(
    adopted.every((r) => r.state === 'done'),
    JSON.stringify(adopted),
  );
  assert.equal(adopted.find((r) => r.key === 'm/big.bin')?.sha256, createHash('sha256').update(objects.get('m/big.bin')!).digest('hex'));
  const verify = await runCli(['verify', '--deep', '-c', config]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.match(verify.stdout, /7 objects checked, 0 missing/);

  // An edge object changed since, and a core copy replaced by other bytes of the same size.
  const changed = Buffer.from('{"version":2}\n');
  await putObject(edge, 'edge', 'c/changed.json', changed);
  await putObject(core, 'lake', 'site-a/edge/d/core-differs.json', '{"core":"diff"}\n');
  await sleep(1100);
  rmSync(join(dir, 'journal'), { recursive: true });
  const before = await lastModified(core, coreKeys);
  mark = core.requests().length;
  const third = await runCli(['sync', '--once', '-c', config]);
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stdout, /^sync: listed 7, adopted 5 the core already holds, landed 2 /);
  requests = core.requests().slice(mark);
  const puts = requests.filter((r) => r.method === 'PUT' || r.method === 'POST').map((r) => r.url);
  assert.deepEqual(puts.filter((url) => url.startsWith('/lake/site-a/')).sort(), [
    '/lake/site-a/edge/c/changed.json',
    '/lake/site-a/edge/d/core-differs.json',
  ]);
  assert.deepEqual(
    requests.filter((r) => r.method === 'HEAD').map((r) => r.url),
    ['/lake/site-a/edge/m/big.bin'],
  );
  assert.ok((await getObject(core, 'lake', 'site-a/edge/c/changed.json')).equals(changed));
  assert.ok((await getObject(core, 'lake', 'site-a/edge/d/core-differs.json')).equals(objects.get('d/core-differs.json')!));
  const after = await lastModified(core, coreKeys);
  for (const key of coreKeys.filter((k) => !k.endsWith('changed.json') && !k.endsWith('core-differs.json'))) {
    assert.equal(after.get(key), before.get(key), key);
  }
  // One new manifest, listing exactly the two objects sent.
  const newManifests = (await listKeys(core, 'lake', '_tributary/manifests/')).filter((k) => !manifestsBefore.includes(k));
  assert.equal(newManifests.length, 1);
  const lines = (await getObject(core, 'lake', newManifests[0]!)).toString().trim().split('\n');
  assert.deepEqual(lines.map((l) => (JSON.parse(l) as { source_key: string }).source_key).sort(), [
    'c/changed.json',
    'd/core-differs.json',
  ]);
  const verifyAgain = await runCli(['verify', '-c', config]);
  assert.equal(verifyAgain.code, 0, verifyAgain.stdout + verifyAgain.stderr);
});
