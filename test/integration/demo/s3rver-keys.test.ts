/**
 * The s3rver child takes our access keys through a private module of s3rver (there is no option
 * for them: docs/adr/0004-s3rver-access-keys.md). These tests fail with a message naming s3rver
 * and the ADR when a release of s3rver moves that module or changes what it does: real requests
 * with our key must be served, and the key s3rver ships with must be refused.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';

import { localS3Client, startLocalS3 } from '../../../src/demo/s3-server.js';
import { tempDir } from '../../helpers/temp-dir.js';

const require = createRequire(import.meta.url);
const VERSION = (require('s3rver/package.json') as { version: string }).version;
const CHANGED = `s3rver ${VERSION} no longer takes our access key through its private module lib/models/account: see docs/adr/0004-s3rver-access-keys.md`;
const KEYS = { accessKeyId: 'TRIBTESTKEY0042', secretAccessKey: 'trib-test-secret-0042' };
const CHILD = fileURLToPath(new URL('../../../src/demo/s3rver-child.mjs', import.meta.url));

/** The S3 error name of a request, or 'ok'. */
async function outcome(request: Promise<unknown>): Promise<string> {
  try {
    await request;
    return 'ok';
  } catch (error) {
    return (error as Error).name;
  }
}

test('s3rver serves our access key and refuses the one it ships with', async (t) => {
  const dir = tempDir(t);
  const server = await startLocalS3({ directory: join(dir, 'd1', 'd2', 'd3', 'data'), buckets: ['b'], ...KEYS });
  t.after(() => server.stop());
  assert.equal(server.accessKeyId, KEYS.accessKeyId);
  const ours = localS3Client(server);
  const shipped = localS3Client({ ...server, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
  const wrong = localS3Client({ ...server, accessKeyId: 'NOSUCHKEY', secretAccessKey: KEYS.secretAccessKey });
  t.after(() => [ours, shipped, wrong].forEach((client) => client.destroy()));

  const put = (client: typeof ours) => client.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: 'body', ContentLength: 4 }));
  assert.equal(await outcome(put(ours)), 'ok', CHANGED);
  const read = await ours.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }));
  assert.equal(await read.Body!.transformToString(), 'body', CHANGED);
  assert.equal(await outcome(put(shipped)), 'InvalidAccessKeyId', CHANGED);
  assert.equal(await outcome(put(wrong)), 'InvalidAccessKeyId', CHANGED);
});

test('a changed private module stops the server with a message naming s3rver and the ADR', (t) => {
  const dir = tempDir(t);
  // Loaded before the child script: s3rver's account module as a release might reshape it.
  const preload = join(dir, 'reshape-account.cjs');
  writeFileSync(
    preload,
    `const path = require.resolve('s3rver/lib/models/account', { paths: [${JSON.stringify(dirname(CHILD))}] });
     require.cache[path] = { id: path, filename: path, loaded: true, exports: { Account: class {} } };\n`,
  );
  const options = { directory: join(dir, 'd1', 'd2', 'd3', 'data'), buckets: ['b'], ...KEYS };
  const child = spawnSync(process.execPath, ['--openssl-legacy-provider', '--require', preload, CHILD, JSON.stringify(options)], {
    encoding: 'utf8',
    input: '',
    timeout: 30_000,
  });
  assert.notEqual(child.status, 0, `the server started: ${child.stdout}`);
  assert.equal(child.stdout, '', 'no port announced');
  assert.match(
    child.stderr,
    new RegExp(
      `s3rver ${VERSION.replaceAll('.', '\\.')}: its private module lib/models/account no longer holds DUMMY_ACCOUNT .*docs/adr/0004-s3rver-access-keys\\.md`,
    ),
  );
});
