/**
 * A new journal adopts what the core already holds (issue 12, point 6): after a sync, the journal
 * folder is deleted (a lost disk, a reinstalled site) and the next sync sends no object data, leaves
 * every core object as it was (Last-Modified) and writes no manifest line again, at the cost of
 * the core's listing pages, one listing page of the site's manifests and one GET per manifest file:
 * no HEAD, even for the multipart copy, since the manifests prove every copy. What changed at the
 * edge since (other bytes, or the same bytes with new headers), a core copy that differs, and a
 * copy another tool wrote without lineage are sent, not adopted. Objects an agent landed but
 * never listed in a manifest (it was killed first) are adopted by a HEAD of their lineage and
 * listed then, marked adopted: every landed object is in the manifests exactly once.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { stringify } from 'yaml';

import { ListObjectsV2Command } from '@aws-sdk/client-s3';

import { killIfRunning, runCli, spawnCli } from '../helpers/cli.js';
import { journalRows } from '../helpers/journal-db.js';
import { getObject, headObject, listKeys, putObject, putObjectWithHeaders, startTestS3, type TestS3 } from '../helpers/local-s3.js';
import { startRewritingProxy } from '../helpers/rewriting-proxy.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testConfigDocument, writeTestConfig } from '../helpers/test-config.js';
import { waitFor } from '../helpers/wait.js';

const MiB = 1024 * 1024;
const PAGE = 3;
const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

async function lastModified(core: TestS3, keys: readonly string[]): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  for (const key of keys) times.set(key, (await headObject(core, 'lake', key)).LastModified!.getTime());
  return times;
}

interface ManifestLine {
  readonly source_key: string;
  readonly core_key: string;
  readonly sha256: string;
  readonly adopted?: boolean;
}

async function manifestLines(core: TestS3, keys: readonly string[]): Promise<ManifestLine[]> {
  const lines: ManifestLine[] = [];
  for (const key of keys) {
    for (const line of (await getObject(core, 'lake', key)).toString().trim().split('\n')) lines.push(JSON.parse(line) as ManifestLine);
  }
  return lines;
}

/** What a run asked the core, by kind: listings by prefix, GETs, HEADs, and what it wrote. */
function requestsOf(core: TestS3, mark: number) {
  const requests = core.requests().slice(mark);
  const isList = (r: { method: string; url: string }) => r.method === 'GET' && r.url.includes('list-type=2');
  return {
    lists: requests.filter(isList).map((r) => decodeURIComponent(/[?&]prefix=([^&]*)/.exec(r.url)?.[1] ?? '')),
    gets: requests.filter((r) => r.method === 'GET' && !isList(r)).map((r) => decodeURIComponent(r.url)),
    heads: requests
      .filter((r) => r.method === 'HEAD')
      .map((r) => decodeURIComponent(r.url))
      .sort(),
    writes: requests.filter((r) => r.method === 'PUT' || r.method === 'POST').map((r) => `${r.method} ${decodeURIComponent(r.url)}`),
  };
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

test('a deleted journal: the next sync adopts by the manifests, without a HEAD, and sends nothing; then only what changed or lacks lineage is sent', async (t) => {
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
    ['f/retyped.json', Buffer.from('{"retyped":1}\n')],
    ['m/big.bin', randomBytes(11 * MiB + 5)],
  ]);
  for (const [key, body] of objects) await putObject(edge, 'edge', key, body);
  const coreKeys = [...objects.keys()].map((key) => `site-a/edge/${key}`);

  // s3rver gives a multipart upload the plain MD5 of the whole object as its ETag; real S3 gives
  // `<md5 of the part MD5s>-<parts>`. The core's listings and HEADs are rewritten to show that, so
  // neither the listing's MD5 nor a HEAD's could prove the multipart copy: only its manifest line.
  const bigMd5 = md5(objects.get('m/big.bin')!);
  const multipartEtag = `${md5(Buffer.from(bigMd5, 'hex'))}-3`;
  const proxy = await startRewritingProxy(core.port, (request) => {
    if (request.method === 'GET' && request.url.includes('list-type=2')) {
      return { answer: (a) => ({ ...a, body: Buffer.from(a.body.toString().replaceAll(bigMd5, multipartEtag)) }) };
    }
    if (request.method === 'HEAD' && request.url.startsWith('/lake/site-a/edge/m/big.bin')) {
      return { answer: (a) => ({ ...a, headers: { ...a.headers, etag: `"${multipartEtag}"` } }) };
    }
    return undefined;
  });
  t.after(() => proxy.close());

  // Multipart above 5 MiB, and pages of 3 keys for the edge and the core listings.
  const transfer = { bufferThreshold: '64KiB', multipartThreshold: '5MiB', partSize: '5MiB' };
  const doc = testConfigDocument(dir, edge, core, { extra: { transfer, scan: { pageSize: PAGE } } });
  (doc['core'] as Record<string, unknown>)['endpoint'] = proxy.endpoint;
  const config = join(dir, 'tributary.yaml');
  writeFileSync(config, stringify(doc));

  const first = await runCli(['sync', '--once', '-c', config]);
  assert.equal(first.code, 0, first.stderr);
  const manifestsBefore = await listKeys(core, 'lake', '_tributary/manifests/');
  assert.equal(manifestsBefore.length, 1);
  assert.equal((await manifestLines(core, manifestsBefore)).length, objects.size);
  const landedAt = await lastModified(core, coreKeys);

  // A lost journal; Last-Modified has whole seconds: a second PUT would show.
  await sleep(1100);
  rmSync(join(dir, 'journal'), { recursive: true });
  let mark = core.requests().length;
  const second = await runCli(['sync', '--once', '-c', config, '--log-level', 'info']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^sync: listed 8, adopted 8 the core already holds, landed 0 /);
  assert.match(second.stderr, /"adopted":8,"bytes":\d+,"msg":"adopted what the core already holds/);
  assert.match(second.stderr, /"files":1,"otherFiles":0,"lines":8,"kept":8,"skipped":0,"msg":"read the site's manifests/);
  let asked = requestsOf(core, mark);
  assert.deepEqual(
    asked.writes,
    ['PUT /lake/_tributary/sites/site-a/heartbeat.json'],
    'no object data and no manifest: only the run’s heartbeat',
  );
  assert.deepEqual(
    asked.lists,
    [...Array<string>(Math.ceil(objects.size / PAGE)).fill('site-a/edge/'), '_tributary/manifests/site=site-a/'],
    'the core’s pages under the target’s prefix, then the one page of manifest files',
  );
  assert.deepEqual(
    asked.gets.filter((url) => !url.includes('/_tributary/sites/')),
    manifestsBefore.map((key) => `/lake/${key}`),
    'one GET per manifest file',
  );
  assert.deepEqual(asked.heads, [], 'no HEAD: the manifest lines prove every copy');
  assert.deepEqual(await lastModified(core, coreKeys), landedAt, 'no core object was written again');
  assert.deepEqual(await listKeys(core, 'lake', '_tributary/manifests/'), manifestsBefore);
  const adopted = journalRows(join(dir, 'journal'));
  assert.deepEqual(
    adopted.map((r) => [r.key, r.state, r.sha256]).sort(),
    [...objects].map(([key, body]) => [key, 'done', sha256(body)]).sort(),
    'every SHA-256 from the manifest lines',
  );
  const verify = await runCli(['verify', '--deep', '-c', config]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.match(verify.stdout, /8 objects checked, 0 missing/);

  // An edge object changed since (other bytes, same size), one with the same bytes and new headers
  // (a new Last-Modified), a core copy replaced by other bytes of the same size, and a new edge
  // object whose core key already holds its bytes, written by another tool (no lineage).
  const changed = Buffer.from('{"version":2}\n');
  await putObject(edge, 'edge', 'c/changed.json', changed);
  await putObjectWithHeaders(edge, 'edge', 'f/retyped.json', objects.get('f/retyped.json')!, { 'content-type': 'application/json' });
  await putObject(core, 'lake', 'site-a/edge/d/core-differs.json', '{"core":"diff"}\n');
  const toolCopy = Buffer.from('{"tool":"copy"}\n');
  await putObject(edge, 'edge', 'e/tool-copy.json', toolCopy);
  await putObject(core, 'lake', 'site-a/edge/e/tool-copy.json', toolCopy);
  await sleep(1100);
  rmSync(join(dir, 'journal'), { recursive: true });
  const before = await lastModified(core, coreKeys);
  mark = core.requests().length;
  const third = await runCli(['sync', '--once', '-c', config]);
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stdout, /^sync: listed 9, adopted 5 the core already holds, landed 4 /);
  asked = requestsOf(core, mark);
  assert.deepEqual(asked.writes.filter((w) => w.startsWith('PUT /lake/site-a/')).sort(), [
    'PUT /lake/site-a/edge/c/changed.json',
    'PUT /lake/site-a/edge/d/core-differs.json',
    'PUT /lake/site-a/edge/e/tool-copy.json',
    'PUT /lake/site-a/edge/f/retyped.json',
  ]);
  // Only where no manifest line proves the copy and the listing shows the same bytes: a HEAD,
  // whose lineage is missing (another tool) or names another Last-Modified (new headers).
  assert.deepEqual(asked.heads, ['/lake/site-a/edge/e/tool-copy.json', '/lake/site-a/edge/f/retyped.json']);
  assert.ok((await getObject(core, 'lake', 'site-a/edge/c/changed.json')).equals(changed));
  assert.ok((await getObject(core, 'lake', 'site-a/edge/d/core-differs.json')).equals(objects.get('d/core-differs.json')!));
  assert.equal((await headObject(core, 'lake', 'site-a/edge/e/tool-copy.json')).Metadata?.['tributary-source-key'], 'e%2Ftool-copy.json');
  const retyped = await headObject(core, 'lake', 'site-a/edge/f/retyped.json');
  assert.equal(retyped.ContentType, 'application/json');
  const edgeRetyped = await edge.client.send(new ListObjectsV2Command({ Bucket: 'edge', Prefix: 'f/' }));
  assert.equal(retyped.Metadata?.['tributary-source-mtime'], edgeRetyped.Contents?.[0]?.LastModified?.toISOString());
  const after = await lastModified(core, coreKeys);
  for (const key of coreKeys.filter((k) => !/changed|core-differs|retyped/.test(k))) assert.equal(after.get(key), before.get(key), key);
  // One new manifest, listing exactly the four objects sent.
  const newManifests = (await listKeys(core, 'lake', '_tributary/manifests/')).filter((k) => !manifestsBefore.includes(k));
  assert.equal(newManifests.length, 1);
  assert.deepEqual((await manifestLines(core, newManifests)).map((l) => [l.source_key, l.adopted ?? false]).sort(), [
    ['c/changed.json', false],
    ['d/core-differs.json', false],
    ['e/tool-copy.json', false],
    ['f/retyped.json', false],
  ]);
  const verifyAgain = await runCli(['verify', '-c', config]);
  assert.equal(verifyAgain.code, 0, verifyAgain.stdout + verifyAgain.stderr);
});

test('objects an agent landed but was killed before listing: a new journal adopts them by a HEAD and lists each once, marked adopted', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const listed = ['x/1.json', 'x/2.json'];
  const unlisted = ['y/1.json', 'y/2.bin'];
  for (const key of listed) await putObject(edge, 'edge', key, `{"key":"${key}"}\n`);
  // Manifests every hour: the agent is killed long before it writes one.
  const config = writeTestConfig(dir, edge, core, { extra: { manifests: { interval: '1h' }, scan: { interval: '1h' } } });
  const journal = join(dir, 'journal');
  const sync = await runCli(['sync', '--once', '-c', config]);
  assert.equal(sync.code, 0, sync.stderr);
  const manifestsBefore = await listKeys(core, 'lake', '_tributary/manifests/');
  assert.equal(manifestsBefore.length, 1);

  for (const key of unlisted) await putObject(edge, 'edge', key, randomBytes(1000 + key.length));
  const agent = spawnCli(['agent', '-c', config]);
  t.after(() => killIfRunning(agent));
  await waitFor(
    'the agent to land y/1.json and y/2.bin',
    () => journalRows(journal).filter((r) => unlisted.includes(r.key) && r.state === 'done').length === unlisted.length,
    30_000,
    () => agent.stderr(),
  );
  agent.child.kill('SIGKILL');
  assert.equal((await agent.done).signal, 'SIGKILL');
  assert.deepEqual(await listKeys(core, 'lake', '_tributary/manifests/'), manifestsBefore, 'no manifest lists them');
  const coreKeys = [...listed, ...unlisted].map((key) => `site-a/edge/${key}`);
  const landedAt = await lastModified(core, coreKeys);

  await sleep(1100);
  rmSync(journal, { recursive: true });
  let mark = core.requests().length;
  const adopting = await runCli(['sync', '--once', '-c', config]);
  assert.equal(adopting.code, 0, adopting.stderr);
  assert.match(adopting.stdout, /^sync: listed 4, adopted 4 the core already holds, landed 0 /);
  let asked = requestsOf(core, mark);
  assert.deepEqual(
    asked.heads,
    ['/lake/site-a/edge/y/1.json', '/lake/site-a/edge/y/2.bin'],
    'a HEAD only where no manifest line proves the copy',
  );
  const manifests = await listKeys(core, 'lake', '_tributary/manifests/');
  const newManifests = manifests.filter((k) => !manifestsBefore.includes(k));
  assert.equal(newManifests.length, 1);
  assert.deepEqual(
    asked.writes.filter((w) => !w.includes('/_tributary/sites/')),
    newManifests.map((key) => `PUT /lake/${key}`),
  );
  assert.deepEqual(await lastModified(core, coreKeys), landedAt, 'no core object was written again');

  // Every landed object exactly once in the manifests; the ones adopted by a HEAD are marked.
  const lines = await manifestLines(core, manifests);
  assert.deepEqual(lines.map((l) => [l.source_key, l.adopted ?? false]).sort(), [
    ['x/1.json', false],
    ['x/2.json', false],
    ['y/1.json', true],
    ['y/2.bin', true],
  ]);
  for (const line of lines) assert.equal(line.sha256, sha256(await getObject(edge, 'edge', line.source_key)), line.source_key);

  // Lost once more: the adopted lines prove their copies now, without a HEAD.
  rmSync(journal, { recursive: true });
  mark = core.requests().length;
  const again = await runCli(['sync', '--once', '-c', config]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^sync: listed 4, adopted 4 the core already holds, landed 0 /);
  asked = requestsOf(core, mark);
  assert.deepEqual(asked.heads, []);
  assert.deepEqual(asked.writes, ['PUT /lake/_tributary/sites/site-a/heartbeat.json']);
});
