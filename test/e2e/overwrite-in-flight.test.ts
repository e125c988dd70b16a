/**
 * An object overwritten at the edge while its upload is in flight: the transfer notices (If-Match,
 * and the ETag of every ranged read), the old version is superseded, and the newer version lands
 * whole. Never a mix of the two.
 */
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { stringify } from 'yaml';

import { killIfRunning, spawnCli } from '../helpers/cli.js';
import { journalRows, readJournal } from '../helpers/journal-db.js';
import { getObject, headObject, putObject, startTestS3 } from '../helpers/local-s3.js';
import { startTcpRelay } from '../helpers/tcp-relay.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testConfigDocument } from '../helpers/test-config.js';

test('an object overwritten during its transfer lands as its newer version, never a mix', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const relay = await startTcpRelay(core.port, { uploadRate: 8 * 1024 * 1024 });
  t.after(() => relay.close());

  const v1 = randomBytes(8 * 5 * 1024 * 1024);
  const v2 = randomBytes(7 * 5 * 1024 * 1024 + 99);
  await putObject(edge, 'edge', 'data/model.bin', v1);
  const doc = testConfigDocument(dir, edge, core, {
    extra: { transfer: { partSize: '5MiB', multipartThreshold: '5MiB', concurrency: 2 } },
  });
  (doc['core'] as Record<string, unknown>)['endpoint'] = relay.endpoint;
  const config = join(dir, 'tributary.yaml');
  writeFileSync(config, stringify(doc));
  const journal = join(dir, 'journal');

  const sync = spawnCli(['sync', '--once', '-c', config, '--log-level', process.env['TEST_LOG_LEVEL'] ?? 'warn']);
  t.after(() => killIfRunning(sync));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const parts = (() => {
      try {
        return readJournal(journal, (db) => (db.prepare('SELECT count(*) AS n FROM multipart_parts').get() as { n: number }).n);
      } catch {
        return 0;
      }
    })();
    if (parts >= 1) break;
    assert.ok(Date.now() < deadline, 'no part uploaded in time');
    assert.equal(sync.child.exitCode, null, sync.stderr());
    await sleep(20);
  }
  await putObject(edge, 'edge', 'data/model.bin', v2);
  relay.setUploadRate(undefined);
  const result = await sync.done;
  if (process.env['TEST_LOG_LEVEL']) console.log(result.stderr);
  assert.equal(result.code, 0, result.stderr);

  const landed = await getObject(core, 'lake', 'site-a/edge/data/model.bin');
  assert.equal(landed.length, v2.length);
  assert.ok(landed.equals(v2), 'the core holds exactly the newer version');
  const head = await headObject(core, 'lake', 'site-a/edge/data/model.bin');
  assert.equal(head.Metadata?.['tributary-sha256'], createHash('sha256').update(v2).digest('hex'));
  const rows = journalRows(journal);
  assert.equal(rows.length, 2);
  assert.equal(rows[0]!.state, 'superseded');
  assert.equal(rows[0]!.last_error_code, 'TRIB_ERR_SOURCE_CHANGED');
  assert.equal(rows[1]!.state, 'done');
});
