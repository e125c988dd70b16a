/**
 * POST /events: S3 event notifications drive replication with scans effectively off; AWS, MinIO
 * and Ceph key encodings; duplicates; scope; malformed, oversized and unauthorised bodies; and an
 * agent SIGKILLed right after acknowledging events still lands them after a restart.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { killIfRunning, runCli, spawnCli, waitForLog } from '../helpers/cli.js';
import { getObject, listKeys, putObject, startTestS3, type TestS3 } from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';
import { writeTestConfig } from '../helpers/test-config.js';

const TOKEN = 'ev-token-51c2';
const md5 = (data: string) => createHash('md5').update(data).digest('hex');

function record(source: 'aws:s3' | 'minio:s3' | 'ceph:s3', name: string, bucket: string, key: string, body: string) {
  return {
    eventVersion: '2.1',
    eventSource: source,
    eventTime: new Date().toISOString(),
    eventName: name,
    unknownField: { ignored: true },
    s3: {
      bucket: { name: bucket },
      object: { key, size: source === 'ceph:s3' ? String(body.length) : body.length, eTag: md5(body), sequencer: '01' },
    },
  };
}

async function post(base: string, body: unknown, token: string | null = TOKEN) {
  const response = await fetch(`${base}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

async function landed(core: TestS3, count: number): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const keys = await listKeys(core, 'lake', 'site-a/');
    if (keys.length >= count) return keys;
    assert.ok(Date.now() < deadline, `only ${keys.length} of ${count} landed`);
    await sleep(100);
  }
}

test('events alone drive replication; keys as AWS, MinIO and Ceph send them; duplicates, scope, bad bodies', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge', 'other']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const config = writeTestConfig(dir, edge, core, {
    buckets: ['edge'],
    extra: { scan: { interval: '1h' }, http: { token: TOKEN }, events: { maxBodySize: '64KiB' } },
  });
  const agent = spawnCli(['agent', '-c', config, '--log-level', 'info']);
  t.after(() => killIfRunning(agent));
  const base = `http://${(await waitForLog(agent, 'http listening'))['address'] as string}`;
  await waitForLog(agent, 'scan complete');

  const objects = { 'a b+c.txt': 'aws body', 'dir/x y.json': '{"minio":1}', 'ceph key+raw.txt': 'ceph body' };
  for (const [key, body] of Object.entries(objects)) await putObject(edge, 'edge', key, body);
  await putObject(edge, 'other', 'elsewhere.txt', 'not replicated');

  const answer = await post(base, {
    Records: [
      record('aws:s3', 'ObjectCreated:Put', 'edge', 'a+b%2Bc.txt', objects['a b+c.txt']),
      record('minio:s3', 's3:ObjectCreated:Put', 'edge', 'dir%2Fx+y.json', objects['dir/x y.json']),
      record('ceph:s3', 'ObjectCreated:Put', 'edge', 'ceph key+raw.txt', objects['ceph key+raw.txt']),
      record('aws:s3', 'ObjectCreated:Put', 'other', 'elsewhere.txt', 'not replicated'),
      record('aws:s3', 'ObjectRestore:Completed', 'edge', 'a+b%2Bc.txt', ''),
    ],
  });
  assert.equal(answer.status, 200, answer.text);
  assert.deepEqual(JSON.parse(answer.text), {
    accepted: 3,
    duplicate: 0,
    out_of_scope: 1,
    removed_ignored: 0,
    removed_propagated: 0,
    other_kind: 1,
  });

  const keys = await landed(core, 3);
  assert.deepEqual(keys.sort(), ['site-a/edge/a b+c.txt', 'site-a/edge/ceph key+raw.txt', 'site-a/edge/dir/x y.json']);
  for (const [key, body] of Object.entries(objects)) assert.equal((await getObject(core, 'lake', `site-a/edge/${key}`)).toString(), body);

  // The same versions again (a sender retrying): nothing is uploaded twice.
  const again = await post(base, { Records: [record('aws:s3', 'ObjectCreated:Put', 'edge', 'a+b%2Bc.txt', objects['a b+c.txt'])] });
  assert.deepEqual(JSON.parse(again.text), {
    accepted: 0,
    duplicate: 1,
    out_of_scope: 0,
    removed_ignored: 0,
    removed_propagated: 0,
    other_kind: 0,
  });
  const removal = await post(base, {
    Records: [
      {
        ...record('aws:s3', 'ObjectRemoved:Delete', 'edge', 'a+b%2Bc.txt', ''),
        s3: { bucket: { name: 'edge' }, object: { key: 'a+b%2Bc.txt' } },
      },
    ],
  });
  assert.equal((JSON.parse(removal.text) as { removed_ignored: number }).removed_ignored, 1);

  // Bad input: a reason, never a crash.
  assert.equal((await post(base, { Records: [] }, null)).status, 401);
  assert.equal((await post(base, { Records: [] }, 'wrong')).status, 401);
  const notJson = await post(base, '{"Records": [');
  assert.equal(notJson.status, 400);
  assert.match(notJson.text, /malformed JSON/);
  assert.match((await post(base, { records: [] })).text, /Records\\" list/);
  const badRecord = await post(base, {
    Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'edge' }, object: { key: 'k', size: -1, eTag: 'x' } } }],
  });
  assert.equal(badRecord.status, 400);
  assert.match(badRecord.text, /Records\[0\]\.s3\.object\.size/);
  const huge = await post(base, { Records: [], padding: 'x'.repeat(100 * 1024) });
  assert.equal(huge.status, 413);
  assert.equal((await fetch(`${base}/healthz`)).status, 200, 'still alive');

  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /^tributary_events_total\{outcome="accepted"\} 3$/m);
  assert.match(metrics, /^tributary_events_total\{outcome="duplicate"\} 1$/m);

  agent.child.kill('SIGTERM');
  assert.equal((await agent.done).code, 0);
  const objectPuts = () => core.requests().filter((r) => r.method === 'PUT' && !r.url.includes('/_tributary/sites/')).length;
  const putsBefore = objectPuts();
  // A scan of the same versions later: recognised, nothing uploaded again (the run's heartbeat aside).
  const scan = await runCli(['sync', '--once', '-c', config]);
  assert.equal(scan.code, 0, scan.stderr);
  assert.match(scan.stdout, /landed 0 /);
  assert.equal(objectPuts(), putsBefore);
});

test('events acknowledged just before a SIGKILL still land after the restart', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  // The core is not reachable yet: nothing can land before the kill.
  const config = writeTestConfig(dir, edge, core, {
    extra: { scan: { interval: '1h' }, core: { endpoint: 'http://127.0.0.1:9', requestTimeout: '1s', maxAttempts: 1 } },
  });
  const agent = spawnCli(['agent', '-c', config, '--log-level', 'info']);
  t.after(() => killIfRunning(agent));
  const base = `http://${(await waitForLog(agent, 'http listening'))['address'] as string}`;
  // A new journal's first scan pass lists what the core already holds before it journals the
  // edge's objects: with the core unreachable it fails, to be tried again in an hour. Only the
  // events journal what follows.
  assert.match(JSON.stringify(await waitForLog(agent, 'scan failed; will try again at the next interval')), /TRIB_ERR_CORE_UNREACHABLE/);
  const bodies = Array.from({ length: 20 }, (_, i) => `event object ${i}`);
  for (const [i, body] of bodies.entries()) await putObject(edge, 'edge', `k/${i}.txt`, body);
  const answer = await post(
    base,
    { Records: bodies.map((body, i) => record('aws:s3', 'ObjectCreated:Put', 'edge', `k/${i}.txt`, body)) },
    null,
  );
  assert.equal(answer.status, 200, answer.text);
  agent.child.kill('SIGKILL');
  await agent.done;

  // Restart with the core reachable: the acknowledged events were journaled.
  const fixed = writeTestConfig(dir, edge, core, { extra: { scan: { interval: '1h' } } });
  const restarted = spawnCli(['agent', '-c', fixed, '--log-level', 'info']);
  t.after(() => killIfRunning(restarted));
  const keys = await landed(core, 20);
  assert.equal(keys.length, 20);
  restarted.child.kill('SIGTERM');
  assert.equal((await restarted.done).code, 0);
});
