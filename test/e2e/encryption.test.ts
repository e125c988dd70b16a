/**
 * core.encryption: every write to the core asks for server-side encryption — single PUTs, the
 * multipart upload (its create), manifests and the heartbeat — with the KMS key id when given.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { runCli } from '../helpers/cli.js';
import { putObject, startTestS3 } from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';
import { writeTestConfig } from '../helpers/test-config.js';

test('SSE-KMS with a key id on every PUT and multipart create at the core', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  await putObject(edge, 'edge', 'small.txt', 'small');
  await putObject(edge, 'edge', 'big.bin', Buffer.alloc(6 * 1024 * 1024, 3));
  const config = writeTestConfig(dir, edge, core, {
    extra: {
      core: { encryption: { mode: 'aws:kms', kmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd' } },
      transfer: { partSize: '5MiB', multipartThreshold: '5MiB' },
    },
  });
  const result = await runCli(['sync', '--once', '-c', config]);
  assert.equal(result.code, 0, result.stderr);
  const writes = core
    .requests()
    .filter((r) => (r.method === 'PUT' && !r.url.includes('partNumber=')) || (r.method === 'POST' && /[?&]uploads(=|&|$)/.test(r.url)));
  assert.ok(writes.length >= 3, JSON.stringify(writes)); // small.txt, the multipart create, a manifest
  for (const write of writes) {
    assert.equal(write.sse, 'aws:kms', write.url);
    assert.equal(write.sseKmsKeyId, 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd', write.url);
  }
});

test('without core.encryption nothing is asked for', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  await putObject(edge, 'edge', 'a.txt', 'a');
  assert.equal((await runCli(['sync', '--once', '-c', writeTestConfig(dir, edge, core)])).code, 0);
  // The writes are there (the object, its manifest, the heartbeat), and none of them asks.
  const writes = core.requests().filter((r) => r.method === 'PUT' || r.method === 'POST');
  assert.deepEqual(
    writes.map((r) => decodeURIComponent(r.url.split('?')[0]!).replace(/dt=[\d-]+\/batch-\d+-\d+/, 'dt=DAY/batch-N')).sort(),
    [
      '/lake/_tributary/manifests/site=site-a/dt=DAY/batch-N.ndjson',
      '/lake/_tributary/sites/site-a/heartbeat.json',
      '/lake/site-a/edge/a.txt',
    ],
  );
  assert.deepEqual(
    core.requests().filter((r) => r.sse !== undefined || r.sseKmsKeyId !== undefined),
    [],
  );
});
