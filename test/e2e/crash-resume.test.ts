/**
 * SIGKILL of the agent in the middle of a multipart upload, then a restart: the upload resumes at
 * the first part the journal does not hold, and the request log of the core proves that parts
 * finished before the kill were not sent again.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { killIfRunning, runCli, spawnCli } from '../helpers/cli.js';
import { readJournal } from '../helpers/journal-db.js';
import { getObject, putObject, startTestS3 } from '../helpers/local-s3.js';
import { startTcpRelay } from '../helpers/tcp-relay.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testConfigDocument } from '../helpers/test-config.js';
import { stringify } from 'yaml';
import { writeFileSync } from 'node:fs';

function partsJournaled(journal: string): { part_number: number; etag: string }[] {
  try {
    return readJournal(
      journal,
      (db) =>
        db.prepare('SELECT part_number, etag FROM multipart_parts ORDER BY part_number').all() as { part_number: number; etag: string }[],
    );
  } catch {
    return [];
  }
}

test('a SIGKILL mid-multipart resumes at the next part; finished parts are not sent again', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const relay = await startTcpRelay(core.port, { uploadRate: 6 * 1024 * 1024 });
  t.after(() => relay.close());

  const body = randomBytes(8 * 5 * 1024 * 1024 + 1234); // 9 parts of 5 MiB
  await putObject(edge, 'edge', 'video/cam-1.mp4', body);
  const doc = testConfigDocument(dir, edge, core, {
    extra: { transfer: { partSize: '5MiB', multipartThreshold: '5MiB', concurrency: 1 } },
  });
  (doc['core'] as Record<string, unknown>)['endpoint'] = relay.endpoint;
  const config = join(dir, 'tributary.yaml');
  writeFileSync(config, stringify(doc));
  const journal = join(dir, 'journal');

  const agent = spawnCli(['sync', '--once', '-c', config]);
  t.after(() => killIfRunning(agent));
  const deadline = Date.now() + 60_000;
  while (partsJournaled(journal).length < 3) {
    assert.ok(Date.now() < deadline, `no parts journaled in time: ${agent.stderr()}`);
    assert.equal(agent.child.exitCode, null, `sync ended before it could be killed: ${agent.stderr()}`);
    await sleep(20);
  }
  agent.child.kill('SIGKILL');
  const killed = await agent.done;
  assert.equal(killed.signal, 'SIGKILL');
  const killedAt = Date.now();

  const finished = partsJournaled(journal);
  assert.ok(finished.length >= 3 && finished.length < 9, `parts journaled at the kill: ${finished.length}`);
  const uploadId = readJournal(
    journal,
    (db) => (db.prepare('SELECT upload_id FROM multipart_uploads').get() as { upload_id: string }).upload_id,
  );

  relay.setUploadRate(undefined);
  const resumed = await runCli(['sync', '--once', '-c', config]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(await getObject(core, 'lake', 'site-a/edge/video/cam-1.mp4'), body);

  const partRequests = core.requests().filter((r) => r.method === 'PUT' && r.url.includes('partNumber='));
  const after = partRequests.filter((r) => r.t >= killedAt);
  const partNumber = (url: string) => Number(new URL(url, 'http://x').searchParams.get('partNumber'));
  const uploadOf = (url: string) => new URL(url, 'http://x').searchParams.get('uploadId');
  assert.ok(after.length > 0, 'the restart uploaded the remaining parts');
  assert.ok(
    after.every((r) => uploadOf(r.url) === uploadId),
    'the restart continued the same multipart upload',
  );
  const resent = after.filter((r) => finished.some((f) => f.part_number === partNumber(r.url)));
  assert.deepEqual(
    resent.map((r) => partNumber(r.url)),
    [],
    'parts finished before the kill were sent again',
  );
  const sentAfter = new Set(after.map((r) => partNumber(r.url)));
  for (let n = 1; n <= 9; n += 1) {
    assert.ok(finished.some((f) => f.part_number === n) || sentAfter.has(n), `part ${n} was never uploaded`);
  }
  assert.equal(
    core.requests().filter((r) => r.method === 'POST' && r.url.includes('uploads') && !r.url.includes('uploadId')).length,
    1,
    'one CreateMultipartUpload in all',
  );
});
