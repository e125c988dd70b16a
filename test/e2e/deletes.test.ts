/**
 * deletes: propagate. A deletion at the edge, seen by an ObjectRemoved event or by a complete scan
 * pass, deletes the core copy; never one whose key was written again, never with deletes: ignore.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { DeleteObjectCommand } from '@aws-sdk/client-s3';

import { killIfRunning, listeningAddress, runCli, spawnCli } from '../helpers/cli.js';
import { listKeys, putObject, startTestS3 } from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';
import { writeTestConfig } from '../helpers/test-config.js';

test('deletes: scans notice deletions; propagate deletes the core copy, ignore keeps it', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  for (const key of ['keep.txt', 'gone.txt', 'back.txt']) await putObject(edge, 'edge', key, `v1 ${key}`);
  const ignore = writeTestConfig(dir, edge, core);
  assert.equal((await runCli(['sync', '--once', '-c', ignore])).code, 0);
  await edge.client.send(new DeleteObjectCommand({ Bucket: 'edge', Key: 'gone.txt' }));
  assert.equal((await runCli(['sync', '--once', '-c', ignore])).code, 0);
  assert.deepEqual(
    (await listKeys(core, 'lake', 'site-a/')).sort(),
    ['site-a/edge/back.txt', 'site-a/edge/gone.txt', 'site-a/edge/keep.txt'],
    'ignore: archive semantics',
  );

  const propagate = writeTestConfig(dir, edge, core, { extra: { deletes: 'propagate' } });
  // One complete pass with propagate records what is listed; the next one sees what vanished.
  assert.equal((await runCli(['sync', '--once', '-c', propagate])).code, 0);
  await edge.client.send(new DeleteObjectCommand({ Bucket: 'edge', Key: 'back.txt' }));
  const pass = await runCli(['sync', '--once', '-c', propagate, '--log-level', 'info']);
  assert.equal(pass.code, 0, pass.stderr);
  assert.deepEqual((await listKeys(core, 'lake', 'site-a/')).sort(), ['site-a/edge/keep.txt']);
  assert.match(pass.stderr, /deletions propagated to the core/);
});

test('deletes: an ObjectRemoved event deletes the core copy, unless the key exists again', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  await putObject(edge, 'edge', 'a.txt', 'alpha');
  await putObject(edge, 'edge', 'b.txt', 'bravo');
  const config = writeTestConfig(dir, edge, core, { extra: { deletes: 'propagate', scan: { interval: '1h' } } });
  const agent = spawnCli(['agent', '-c', config, '--log-level', 'info']);
  t.after(() => killIfRunning(agent));
  const deadline = Date.now() + 30_000;
  while ((await listKeys(core, 'lake', 'site-a/')).length < 2 || !agent.stderr().includes('"http listening"')) {
    assert.ok(Date.now() < deadline, agent.stderr());
    await sleep(100);
  }
  const address = await listeningAddress(agent);
  await edge.client.send(new DeleteObjectCommand({ Bucket: 'edge', Key: 'a.txt' }));
  await edge.client.send(new DeleteObjectCommand({ Bucket: 'edge', Key: 'b.txt' }));
  await putObject(edge, 'edge', 'b.txt', 'bravo again'); // deleted and written again before the event arrives
  const removed = (key: string) => ({
    eventSource: 'aws:s3',
    eventName: 'ObjectRemoved:Delete',
    s3: { bucket: { name: 'edge' }, object: { key } },
  });
  const answer = await fetch(`http://${address}/events`, {
    method: 'POST',
    body: JSON.stringify({ Records: [removed('a.txt'), removed('b.txt')] }),
  });
  assert.deepEqual(await answer.json(), {
    accepted: 0,
    duplicate: 0,
    out_of_scope: 0,
    removed_ignored: 0,
    removed_propagated: 2,
    other_kind: 0,
  });
  while ((await listKeys(core, 'lake', 'site-a/')).includes('site-a/edge/a.txt')) {
    assert.ok(Date.now() < deadline + 30_000, 'a.txt was not deleted from the core');
    await sleep(100);
  }
  assert.ok((await listKeys(core, 'lake', 'site-a/')).includes('site-a/edge/b.txt'), 'b.txt exists again at the edge: its core copy stays');
  agent.child.kill('SIGTERM');
  assert.equal((await agent.done).code, 0);
});
