/**
 * SIGTERM in the middle of `sync --once` is an orderly stop: in-flight objects are released for
 * the next run, what landed is listed in a manifest, and nothing is logged as a failure of the
 * core (the requests the signal cut off are cancellations, not server errors).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { stringify } from 'yaml';

import { runCli, spawnCli } from '../helpers/cli.js';
import { journalRows } from '../helpers/journal-db.js';
import { getObject, listKeys, putObject, startTestS3 } from '../helpers/local-s3.js';
import { startTcpRelay } from '../helpers/tcp-relay.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testConfigDocument } from '../helpers/test-config.js';
import { waitFor } from '../helpers/wait.js';

test('SIGTERM during sync --once: an orderly stop, what landed is listed, no failure is logged, the next run finishes', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  for (let i = 0; i < 20; i += 1) await putObject(edge, 'edge', `o${String(i).padStart(2, '0')}.bin`, randomBytes(200 * 1024));
  await putObject(edge, 'edge', 'big.bin', randomBytes(12 * 1024 * 1024));
  // A slow link to the core, so that the signal comes while objects are on their way.
  const relay = await startTcpRelay(core.port, { uploadRate: 400 * 1024 });
  t.after(() => relay.close());
  const doc = testConfigDocument(dir, edge, core, { extra: { transfer: { partSize: '5MiB', multipartThreshold: '5MiB' } } });
  (doc['core'] as Record<string, unknown>)['endpoint'] = relay.endpoint;
  const file = join(dir, 'tributary.yaml');
  writeFileSync(file, stringify(doc));

  const sync = spawnCli(['sync', '--once', '-c', file, '--log-level', 'info']);
  const done = () => journalRows(join(dir, 'journal')).filter((r) => r.state === 'done').length;
  await waitFor(
    'a first object landed',
    () => {
      try {
        return done() > 0;
      } catch {
        return false;
      }
    },
    60_000,
    () => sync.stderr(),
  );
  sync.child.kill('SIGTERM');
  const result = await sync.done;
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /; interrupted$/m);
  const lines = result.stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string });
  assert.deepEqual(
    lines.filter((line) => line.level >= 40),
    [],
    'no warning or error: the cut-off requests were cancellations',
  );
  assert.ok(
    lines.some((line) => line.msg.startsWith('sync stopped by a signal')),
    result.stderr,
  );

  const landed = done();
  assert.ok(landed > 0 && landed < 21, `${landed} landed before the signal`);
  let listed = 0;
  for (const key of await listKeys(core, 'lake', '_tributary/manifests/')) {
    listed += (await getObject(core, 'lake', key)).toString().trim().split('\n').length;
  }
  assert.equal(listed, landed, 'every object that landed is in a manifest');

  relay.setUploadRate(undefined);
  const again = await runCli(['sync', '--once', '-c', file]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(done(), 21);
});
