/**
 * Edge retention (`retention.deleteFromEdgeAfter`, per rule or global): an edge object is deleted
 * only when it is done, its period has passed, it is still the version that landed, and a HEAD of
 * its core copy confirms the recorded SHA-256. Pending, failed, dead, changed objects and those
 * whose core copy is missing or different are never deleted. Real s3rver on both sides, the real
 * journal; the retention rounds run in-process with a clock set days ahead.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';

import { buildAgent } from '../../src/agent/build-agent.js';
import { loadConfigFile } from '../../src/config/load.js';
import { silentLogger } from '../../src/observability/logger.js';
import { killIfRunning, listeningAddress, runCli, spawnCli } from '../helpers/cli.js';
import { FakeClock } from '../helpers/fakes.js';
import { readJournal } from '../helpers/journal-db.js';
import { getObject, listKeys, putObject, startTestS3 } from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';
import { writeTestConfig } from '../helpers/test-config.js';
import { waitFor } from '../helpers/wait.js';

const DAY = 24 * 60 * 60_000;

interface RetentionRow {
  key: string;
  state: string;
  last_error_code: string | null;
  edge_retention: string | null;
  edge_retention_note: string | null;
}

function retentionRows(journal: string): Map<string, RetentionRow[]> {
  const rows = readJournal(
    journal,
    (db) =>
      db
        .prepare('SELECT key, state, last_error_code, edge_retention, edge_retention_note FROM objects ORDER BY id')
        .all() as RetentionRow[],
  );
  const byKey = new Map<string, RetentionRow[]>();
  for (const row of rows) byKey.set(row.key, [...(byKey.get(row.key) ?? []), row]);
  return byKey;
}

test('edge retention: deletes only done, expired objects whose core copy is confirmed; never pending, failed, dead, changed, missing or different ones', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const config = writeTestConfig(dir, edge, core, {
    extra: {
      retention: { deleteFromEdgeAfter: '7d' },
      rules: [
        { match: { prefix: 'forever/' }, retention: { deleteFromEdgeAfter: 'never' } },
        { match: { prefix: 'short/' }, retention: { deleteFromEdgeAfter: '1d' } },
      ],
    },
  });
  const keys = [
    'ok/a.json',
    'short/b.json',
    'forever/c.json',
    'pending/d.json',
    'failed/e.json',
    'dead/f.json',
    'core-missing/g.json',
    'core-different/h.json',
    'edge-changed/i.json',
  ];
  for (const key of keys) await putObject(edge, 'edge', key, `{"v":1,"key":"${key}"}\n`);
  const first = await runCli(['sync', '--once', '-c', config]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal((await listKeys(core, 'lake', 'site-a/')).length, keys.length);

  // New versions at the edge, journaled but not landed: queued, then failed and dead as the runner records them.
  for (const key of ['pending/d.json', 'failed/e.json', 'dead/f.json']) await putObject(edge, 'edge', key, `{"v":2,"key":"${key}"}\n`);
  await putObject(edge, 'edge', 'never-landed/j.json', '{"v":1}\n');
  const clock = new FakeClock(Date.now());
  const agent = buildAgent(loadConfigFile(config), { logger: silentLogger, clock });
  t.after(() => agent.close());
  await agent.scan();
  const v2 = (key: string) => agent.journal.latest('edge', key)!;
  assert.equal(v2('pending/d.json').state, 'queued');
  const failure = { code: 'TRIB_ERR_CORE_SERVER', message: 'injected', consumeAttempt: true, nextAttemptAt: 0 } as const;
  agent.journal.markFailed(v2('failed/e.json').id, { ...failure, outcome: 'retry' });
  agent.journal.markFailed(v2('dead/f.json').id, { ...failure, outcome: 'dead' });
  // Changes the journal has not seen: the core copy deleted or replaced, the edge object overwritten.
  await core.client.send(new DeleteObjectCommand({ Bucket: 'lake', Key: 'site-a/edge/core-missing/g.json' }));
  await core.client.send(
    new PutObjectCommand({
      Bucket: 'lake',
      Key: 'site-a/edge/core-different/h.json',
      Body: 'tampered',
      Metadata: { 'tributary-sha256': '0'.repeat(64) },
    }),
  );
  await putObject(edge, 'edge', 'edge-changed/i.json', '{"v":2,"written":"after the scan"}\n');

  // Two days on: only the 1-day rule's object is due.
  clock.advance(2 * DAY);
  const early = await agent.expireEdgeObjects();
  assert.deepEqual(
    { deleted: early?.deleted, held: early?.held, kept: early?.kept, requeued: early?.requeued, postponed: early?.postponed },
    { deleted: 1, held: 0, kept: 0, requeued: 0, postponed: 0 },
  );
  assert.ok(!(await listKeys(edge, 'edge')).includes('short/b.json'));

  // Eight days on: everything under the 7-day global period is due.
  clock.advance(6 * DAY);
  const round = await agent.expireEdgeObjects();
  assert.ok(round !== undefined);
  assert.equal(round.stoppedBy, undefined);
  assert.deepEqual(
    { deleted: round.deleted, held: round.held, kept: round.kept, requeued: round.requeued, postponed: round.postponed },
    // kept: pending/d, failed/e, dead/f (a newer version is journaled) and edge-changed/i (seen by the HEAD)
    { deleted: 1, held: 1, kept: 4, requeued: 1, postponed: 0 },
  );

  const edgeKeys = (await listKeys(edge, 'edge')).sort();
  assert.deepEqual(edgeKeys, [
    'core-different/h.json',
    'core-missing/g.json',
    'dead/f.json',
    'edge-changed/i.json',
    'failed/e.json',
    'forever/c.json',
    'never-landed/j.json',
    'pending/d.json',
  ]);
  // The versions kept at the edge are untouched: the new ones are still the new ones.
  for (const key of ['pending/d.json', 'failed/e.json', 'dead/f.json'])
    assert.match((await getObject(edge, 'edge', key)).toString(), /"v":2/);
  assert.match((await getObject(edge, 'edge', 'edge-changed/i.json')).toString(), /after the scan/);
  // Nothing was deleted from the core.
  assert.ok((await listKeys(core, 'lake', 'site-a/')).includes('site-a/edge/ok/a.json'));
  assert.ok((await listKeys(core, 'lake', 'site-a/')).includes('site-a/edge/short/b.json'));

  const rows = retentionRows(join(dir, 'journal'));
  const only = (key: string) => rows.get(key)!.at(-1)!;
  assert.equal(only('ok/a.json').edge_retention, 'deleted');
  assert.equal(only('short/b.json').edge_retention, 'deleted');
  assert.equal(only('forever/c.json').edge_retention, null);
  assert.equal(only('core-different/h.json').edge_retention, 'held');
  assert.match(only('core-different/h.json').edge_retention_note ?? '', /core copy differs/);
  assert.equal(only('edge-changed/i.json').edge_retention, 'kept');
  assert.equal(only('core-missing/g.json').state, 'queued', 'a missing core copy is replicated again');
  assert.equal(only('core-missing/g.json').last_error_code, 'TRIB_ERR_CORE_COPY_MISSING');
  for (const key of ['pending/d.json', 'failed/e.json', 'dead/f.json']) {
    const [landed, newer] = rows.get(key)!;
    assert.equal(landed!.edge_retention, 'kept', key);
    assert.equal(newer!.edge_retention, null, key);
  }
  assert.deepEqual(
    rows.get('failed/e.json')!.map((r) => r.state),
    ['done', 'failed'],
  );
  assert.deepEqual(
    rows.get('dead/f.json')!.map((r) => r.state),
    ['done', 'dead'],
  );

  // Another round changes nothing: held objects wait for their recheck, kept ones are final.
  const again = await agent.expireEdgeObjects();
  assert.deepEqual(
    { deleted: again?.deleted, held: again?.held, kept: again?.kept, requeued: again?.requeued },
    { deleted: 0, held: 0, kept: 0, requeued: 0 },
  );

  const status = await runCli(['status', '-c', config]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /edge retention: 2 deleted from the edge/);
  assert.match(status.stdout, /1 held \(core copy differs\)/);
  assert.match(status.stdout, /held {4}edge\/core-different\/h\.json: the core copy differs/);
  await agent.close();

  // The missing core copy lands again on the next pass.
  const second = await runCli(['sync', '--once', '-c', config]);
  assert.equal(second.code, 1, 'dead/f.json stays dead');
  assert.deepEqual((await getObject(core, 'lake', 'site-a/edge/core-missing/g.json')).toString(), '{"v":1,"key":"core-missing/g.json"}\n');
  // Every landing is in the manifests: the object landed again is listed twice, the others once.
  const lines: { source_key: string; landed_at: string; relanding?: string }[] = [];
  for (const key of await listKeys(core, 'lake', '_tributary/manifests/')) {
    for (const line of (await getObject(core, 'lake', key)).toString().trim().split('\n'))
      lines.push(JSON.parse(line) as (typeof lines)[number]);
  }
  const landings = (key: string) => lines.filter((l) => l.source_key === key).map((l) => l.landed_at);
  assert.equal(landings('core-missing/g.json').length, 2);
  assert.ok(landings('core-missing/g.json')[0]! < landings('core-missing/g.json')[1]!, landings('core-missing/g.json').join());
  assert.equal(landings('ok/a.json').length, 1);
  // The second landing says why it happened.
  assert.deepEqual(
    lines.filter((l) => l.source_key === 'core-missing/g.json').map((l) => l.relanding),
    [undefined, 'core-copy-missing'],
  );
});

test('edge retention in the agent: edge copies go after the period, the core copies stay even with deletes: propagate', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const config = writeTestConfig(dir, edge, core, {
    extra: { retention: { deleteFromEdgeAfter: '1s', interval: '1s' }, deletes: 'propagate', scan: { interval: '1s' } },
  });
  const keys = Array.from({ length: 6 }, (_, i) => `telemetry/${i}.jsonl`);
  for (const key of keys) await putObject(edge, 'edge', key, `{"i":"${key}"}\n`);

  const agent = spawnCli(['agent', '-c', config, '--log-level', 'info']);
  t.after(() => killIfRunning(agent));
  await waitFor(
    'retention to empty the edge',
    async () => (await listKeys(edge, 'edge')).length === 0,
    60_000,
    () => agent.stderr().slice(-3000),
  );
  // The edge deletions are no user's deletions: an ObjectRemoved event and complete scan passes
  // with deletes: propagate leave the core copies alone.
  const address = await listeningAddress(agent);
  const removed = {
    Records: [
      {
        eventSource: 'aws:s3',
        eventName: 'ObjectRemoved:Delete',
        eventTime: new Date().toISOString(),
        s3: { bucket: { name: 'edge' }, object: { key: 'telemetry/0.jsonl' } },
      },
    ],
  };
  const answer = await fetch(`http://${address}/events`, {
    method: 'POST',
    body: JSON.stringify(removed),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(answer.status, 200, await answer.text());
  await sleep(3500); // three scan passes of 1 s
  assert.deepEqual((await listKeys(core, 'lake', 'site-a/')).sort(), keys.map((k) => `site-a/edge/${k}`).sort());
  for (const key of keys) assert.equal((await getObject(core, 'lake', `site-a/edge/${key}`)).toString(), `{"i":"${key}"}\n`);

  const metrics = await (await fetch(`http://${address}/metrics`)).text();
  assert.match(metrics, /^tributary_edge_retention_total\{outcome="deleted"\} 6$/m);
  const bytes = keys.reduce((sum, k) => sum + Buffer.byteLength(`{"i":"${k}"}\n`), 0);
  assert.match(metrics, new RegExp(`^tributary_edge_deleted_bytes_total ${bytes}$`, 'm'));
  const statusJson = JSON.parse((await runCli(['status', '--json', '-c', config])).stdout) as { edgeRetention: { deleted: number } };
  assert.equal(statusJson.edgeRetention.deleted, 6);

  agent.child.kill('SIGTERM');
  const result = await agent.done;
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /edge retention round/);
  const verify = await runCli(['verify', '-c', config]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);

  // The core copies are now the only ones: `verify --retained` audits them too.
  const retained = await runCli(['verify', '--retained', '--deep', '-c', config]);
  assert.equal(retained.code, 0, retained.stdout + retained.stderr);
  assert.match(retained.stdout, /6 objects checked \(6 of them deleted from the edge by retention\), 0 missing/);
  await core.client.send(new DeleteObjectCommand({ Bucket: 'lake', Key: 'site-a/edge/telemetry/3.jsonl' }));
  await core.client.send(new PutObjectCommand({ Bucket: 'lake', Key: 'site-a/edge/telemetry/4.jsonl', Body: 'tampered' }));
  const lost = await runCli(['verify', '--retained', '-c', config]);
  assert.equal(lost.code, 1, lost.stdout);
  assert.match(
    lost.stdout,
    /^missing +edge\/telemetry\/3\.jsonl: deleted from the edge by retention; core object site-a\/edge\/telemetry\/3\.jsonl does not exist$/m,
  );
  assert.match(lost.stdout, /^different +edge\/telemetry\/4\.jsonl: deleted from the edge by retention; core size 8/m);
  assert.equal((await runCli(['verify', '-c', config])).code, 0, 'without --retained only edge objects are audited');
});

test('edge retention in sync --once: each pass deletes what earlier passes landed and is due; the core copies stay with deletes: propagate', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const config = writeTestConfig(dir, edge, core, {
    extra: {
      retention: { deleteFromEdgeAfter: '1s' },
      deletes: 'propagate',
      rules: [{ match: { prefix: 'keep/' }, retention: { deleteFromEdgeAfter: 'never' } }],
    },
  });
  const keys = ['pos/receipt-1.json', 'pos/receipt-2.json', 'telemetry/a.jsonl', 'keep/config.json'];
  for (const key of keys) await putObject(edge, 'edge', key, `{"key":"${key}"}\n`);

  const first = await runCli(['sync', '--once', '-c', config]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /landed 4 .*; deleted from the edge 0$/m);
  assert.equal((await listKeys(edge, 'edge')).length, 4, 'nothing is due in the pass that lands it');

  await sleep(2100); // the 1 s period, since landing and since Last-Modified (whole seconds)
  const second = await runCli(['sync', '--once', '-c', config]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /listed 1, landed 0 .*; deleted from the edge 3$/m);
  assert.deepEqual(await listKeys(edge, 'edge'), ['keep/config.json']);
  // deletes: propagate saw three keys gone from the edge and left their core copies alone.
  assert.deepEqual((await listKeys(core, 'lake', 'site-a/')).sort(), keys.map((k) => `site-a/edge/${k}`).sort());
  for (const key of keys) assert.equal((await getObject(core, 'lake', `site-a/edge/${key}`)).toString(), `{"key":"${key}"}\n`);

  const third = await runCli(['sync', '--once', '-c', config]);
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stdout, /deleted from the edge 0$/m);
  const retained = await runCli(['verify', '--retained', '--deep', '-c', config]);
  assert.equal(retained.code, 0, retained.stdout + retained.stderr);
  assert.match(retained.stdout, /4 objects checked \(3 of them deleted from the edge by retention\), 0 missing/);
});
