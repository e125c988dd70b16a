import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { stringify } from 'yaml';

import { runCli } from '../helpers/cli.js';
import { journalRows } from '../helpers/journal-db.js';
import { getObject, listKeys, putObject, startTestS3 } from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testConfigDocument, writeTestConfig } from '../helpers/test-config.js';

const EDGE_KEYS = { accessKeyId: 'EDGEKEY123', secretAccessKey: 'edge-secret-value-1' };
const CORE_KEYS = { accessKeyId: 'COREKEY456', secretAccessKey: 'core-secret-value-2' };

// s3rver checks that the access key exists but does not verify SigV4 signatures, so a wrong
// secret cannot be told apart here; test/unit/s3/map-error.test.ts covers SignatureDoesNotMatch.
for (const side of ['core', 'edge'] as const) {
  test(`wrong ${side} credentials: a clear error naming ${side}.credentials, exit 2, nothing marked done`, async (t) => {
    const dir = tempDir(t);
    const edge = await startTestS3(t, dir, 'edge', ['edge'], EDGE_KEYS);
    const core = await startTestS3(t, dir, 'core', ['lake'], CORE_KEYS);
    await putObject(edge, 'edge', 'a.txt', 'alpha');
    const wrong = { accessKeyId: 'WRONGKEY789', secretAccessKey: 'not-the-secret' };
    const config = writeTestConfig(dir, edge, core, side === 'core' ? { coreCredentials: wrong } : { edgeCredentials: wrong });
    const result = await runCli(['sync', '--once', '-c', config]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`the ${side} rejected the credentials \\(InvalidAccessKeyId\\); check ${side}\\.credentials`));
    assert.doesNotMatch(result.stderr + result.stdout, /not-the-secret/);
    // No object; for a refused edge, the run's heartbeat, so the fleet shows the site degraded (auth).
    assert.deepEqual(await listKeys(core, 'lake'), side === 'edge' ? ['_tributary/sites/site-a/heartbeat.json'] : []);
    if (side === 'edge') {
      const beat = JSON.parse((await getObject(core, 'lake', '_tributary/sites/site-a/heartbeat.json')).toString()) as {
        endpoints: { edge: { reachable: boolean; reason: string } };
      };
      assert.deepEqual([beat.endpoints.edge.reachable, beat.endpoints.edge.reason], [false, 'auth']);
    }
    // The credentials are checked before the scan: the run stops with the journal open and empty.
    assert.deepEqual(journalRows(join(dir, 'journal')), []);
  });
}

// While an agent runs, refused credentials are an outage it waits out (test/e2e/edge-outage.test.ts);
// at start they mean the config is wrong, for the agent as for sync --once.
test('wrong edge credentials at start: the agent does not start, exit 2 naming edge.credentials', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge'], EDGE_KEYS);
  const core = await startTestS3(t, dir, 'core', ['lake'], CORE_KEYS);
  const config = writeTestConfig(dir, edge, core, { edgeCredentials: { accessKeyId: 'WRONGKEY789', secretAccessKey: 'not-the-secret' } });
  const result = await runCli(['agent', '-c', config], { timeoutMs: 60_000 });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /TRIB_ERR_EDGE_AUTH: .*the edge rejected the credentials \(InvalidAccessKeyId\); check edge\.credentials/);
  assert.doesNotMatch(result.stderr, /agent started/);
});

test('a core bucket that does not exist is a clear error', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const config = writeTestConfig(dir, edge, core, { coreBucket: 'no-such-lake' });
  const result = await runCli(['sync', '--once', '-c', config]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /TRIB_ERR_CORE_BUCKET_MISSING: .*core bucket no-such-lake does not exist; check core\.bucket/);
});

test('an edge bucket that does not exist is a clear error', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const config = writeTestConfig(dir, edge, core, { buckets: ['edge', 'not-here'] });
  const result = await runCli(['sync', '--once', '-c', config]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /TRIB_ERR_EDGE_BUCKET_MISSING: .*edge bucket not-here does not exist; check edge\.buckets/);
});

test('without credentials in the config, the standard AWS chain (environment variables) is used', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge'], EDGE_KEYS);
  const core = await startTestS3(t, dir, 'core', ['lake'], EDGE_KEYS);
  await putObject(edge, 'edge', 'a.txt', 'alpha');
  await putObject(edge, 'edge', 'big.bin', Buffer.alloc(6 * 1024 * 1024, 7));
  const file = join(dir, 'tributary.yaml');
  const doc = testConfigDocument(dir, edge, core, { extra: { transfer: { partSize: '5MiB', multipartThreshold: '5MiB' } } });
  delete (doc['edge'] as Record<string, unknown>)['credentials'];
  delete (doc['core'] as Record<string, unknown>)['credentials'];
  writeFileSync(file, stringify(doc));
  const env = {
    AWS_ACCESS_KEY_ID: EDGE_KEYS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EDGE_KEYS.secretAccessKey,
    AWS_PROFILE: '',
    AWS_CONFIG_FILE: join(dir, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
  };
  const result = await runCli(['sync', '--once', '-c', file], { env });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual((await listKeys(core, 'lake', 'site-a/')).sort(), ['site-a/edge/a.txt', 'site-a/edge/big.bin']);
});
