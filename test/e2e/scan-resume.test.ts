/**
 * An interrupted scan resumes from its checkpoint: after a SIGKILL mid-listing, or the edge going
 * away mid-listing, the next LIST starts after the last key the journal saved, not at the beginning.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { stringify } from 'yaml';

import { forEachConcurrently } from '../../src/core/for-each-concurrently.js';
import { killIfRunning, runCli, spawnCli } from '../helpers/cli.js';
import { journalRows, readJournal } from '../helpers/journal-db.js';
import { listKeys, putObject, startTestS3, type TestS3 } from '../helpers/local-s3.js';
import { startTcpRelay } from '../helpers/tcp-relay.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testConfigDocument, writeTestConfig } from '../helpers/test-config.js';
import { waitFor } from '../helpers/wait.js';

/** `count` objects k/0000, k/0001, ... written 8 at a time. */
async function seed(edge: TestS3, count: number): Promise<void> {
  await forEachConcurrently([...Array(count).keys()], 8, (i) => putObject(edge, 'edge', `k/${String(i).padStart(4, '0')}`, `v${i}`));
}

/** The scan checkpoint of the journal, or undefined before the agent created it. */
function savedCheckpoint(journal: string): { start_after: string | null; objects_seen: number; completed_at: number | null } | undefined {
  try {
    return readJournal(
      journal,
      (db) =>
        db.prepare('SELECT start_after, objects_seen, completed_at FROM scan_checkpoints').get() as
          { start_after: string | null; objects_seen: number; completed_at: number | null } | undefined,
    );
  } catch {
    return undefined;
  }
}

test('a scan killed mid-listing resumes from its checkpoint', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const count = 400;
  await seed(edge, count);
  const config = writeTestConfig(dir, edge, core, { extra: { scan: { pageSize: 5 } } });
  const journal = join(dir, 'journal');
  const checkpoint = () => savedCheckpoint(journal);

  const first = spawnCli(['sync', '--once', '-c', config]);
  t.after(() => killIfRunning(first));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const saved = checkpoint();
    if (saved && saved.objects_seen >= 50 && saved.completed_at === null) break;
    assert.ok(Date.now() < deadline, 'the scan did not get going');
    assert.equal(first.child.exitCode, null, 'the scan finished before it could be interrupted');
    await sleep(5);
  }
  first.child.kill('SIGKILL');
  await first.done;
  const saved = checkpoint()!;
  assert.equal(saved.completed_at, null);
  assert.ok(saved.start_after !== null && saved.start_after < 'k/0399');
  // Written since, before the checkpoint: the resumed pass does not reach it, the run must.
  await putObject(edge, 'edge', 'a/new', 'written while the scan was down');

  const listsBefore = edge.requests().filter((r) => r.url.includes('list-type=2')).length;
  const second = await runCli(['sync', '--once', '-c', config]);
  assert.equal(second.code, 0, second.stderr);
  const lists = edge
    .requests()
    .filter((r) => r.url.includes('list-type=2'))
    .slice(listsBefore);
  // The preflight lists one key; the scan's first page starts after the checkpoint.
  const scanLists = lists.filter((r) => !r.url.includes('max-keys=1&') && !r.url.endsWith('max-keys=1'));
  const firstScan = new URL(scanLists[0]!.url, 'http://x').searchParams.get('start-after');
  assert.ok(
    firstScan !== null && firstScan >= saved.start_after,
    `first LIST after restart started at ${String(firstScan)}, checkpoint ${saved.start_after}`,
  );
  // Then one fresh pass from the start, in the same run.
  assert.ok(
    scanLists.slice(1).some((r) => !r.url.includes('start-after=')),
    'no fresh pass after the resumed one',
  );
  assert.equal((await listKeys(core, 'lake', 'site-a/')).length, count + 1);
  assert.ok((await listKeys(core, 'lake', 'site-a/')).includes('site-a/edge/a/new'));
  assert.notEqual(checkpoint()!.completed_at, null);
});

test('the edge disappearing mid-scan is transient: the agent keeps running, resumes from its checkpoint, and loses nothing', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const count = 300;
  await seed(edge, count);
  const relay = await startTcpRelay(edge.port);
  t.after(() => relay.close());
  const doc = testConfigDocument(dir, edge, core, {
    extra: { scan: { pageSize: 5, interval: '1s' }, edge: { requestTimeout: '2s', maxAttempts: 1 }, transfer: { maxAttempts: 2 } },
  });
  (doc['edge'] as Record<string, unknown>)['endpoint'] = relay.endpoint;
  const config = join(dir, 'tributary.yaml');
  writeFileSync(config, stringify(doc));
  const journal = join(dir, 'journal');
  const checkpoint = () => savedCheckpoint(journal);

  const agent = spawnCli(['agent', '-c', config, '--log-level', 'info']);
  t.after(() => killIfRunning(agent));
  await waitFor(
    'the scan to get going',
    () => {
      const saved = checkpoint();
      return saved !== undefined && saved.objects_seen >= 30 && saved.completed_at === null;
    },
    30_000,
  );
  relay.setDown(true);
  const saved = checkpoint()!;
  await waitFor(
    'the failed scan to be logged',
    () => agent.stderr().includes('scan failed; will try again'),
    30_000,
    () => agent.stderr().slice(-2000),
  );
  assert.match(agent.stderr(), /TRIB_ERR_EDGE_UNREACHABLE/);
  assert.equal(agent.child.exitCode, null, 'the agent keeps running');
  assert.ok(checkpoint()!.start_after! >= saved.start_after!, 'the checkpoint is kept, not reset');

  const listsBefore = edge.requests().filter((r) => r.url.includes('list-type=2')).length;
  relay.setDown(false);
  await waitFor(
    'every object to land',
    async () => (await listKeys(core, 'lake', 'site-a/')).length === count,
    90_000,
    () => agent.stderr().slice(-2000),
  );
  const scanLists = edge
    .requests()
    .filter((r) => r.url.includes('list-type=2'))
    .slice(listsBefore)
    .filter((r) => !/max-keys=1(&|$)/.test(r.url));
  const resumedAt = new URL(scanLists[0]!.url, 'http://x').searchParams.get('start-after');
  assert.ok(
    resumedAt !== null && resumedAt >= saved.start_after!,
    `the first LIST after the outage started at ${String(resumedAt)}, checkpoint ${saved.start_after}`,
  );
  await waitFor('the journal to record every landing', () => journalRows(journal).filter((r) => r.state === 'done').length === count);
  const rows = journalRows(journal);
  assert.equal(rows.length, count);
  assert.ok(
    rows.every((r) => r.state === 'done' && r.attempts === 0),
    JSON.stringify(rows.filter((r) => r.state !== 'done' || r.attempts > 0).slice(0, 5)),
  );
  agent.child.kill('SIGTERM');
  assert.equal((await agent.done).code, 0);
});
