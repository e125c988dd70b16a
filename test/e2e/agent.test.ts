/**
 * The daemon: continuous scans and transfers, riding out a core outage without using attempts,
 * `status` while it runs, and a clean exit 0 on SIGTERM.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { stringify } from 'yaml';

import { killIfRunning, listeningAddress, runCli, spawnCli } from '../helpers/cli.js';
import { journalRows } from '../helpers/journal-db.js';
import { getObject, listKeys, putObject, startTestS3 } from '../helpers/local-s3.js';
import { startTcpRelay } from '../helpers/tcp-relay.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { testConfigDocument } from '../helpers/test-config.js';

test('agent: scans continuously, survives a core outage without using attempts, exits 0 on SIGTERM', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const relay = await startTcpRelay(core.port);
  t.after(() => relay.close());
  const doc = testConfigDocument(dir, edge, core, {
    extra: { scan: { interval: '1s' }, heartbeat: { interval: '1s' }, core: { requestTimeout: '2s', maxAttempts: 1 } },
  });
  (doc['core'] as Record<string, unknown>)['endpoint'] = relay.endpoint;
  const config = join(dir, 'tributary.yaml');
  writeFileSync(config, stringify(doc));
  const journal = join(dir, 'journal');

  for (let i = 0; i < 3; i += 1) await putObject(edge, 'edge', `first/${i}.json`, `{"i":${i}}`);
  const agent = spawnCli(['agent', '-c', config, '--log-level', 'info']);
  t.after(() => killIfRunning(agent));
  await waitFor('the first objects to land', async () => (await listKeys(core, 'lake', 'site-a/')).length === 3);

  relay.setDown(true);
  for (let i = 0; i < 2; i += 1) await putObject(edge, 'edge', `during-outage/${i}.json`, `{"o":${i}}`);
  await waitFor(
    'the outage to be noticed',
    () => journalRows(journal).some((r) => r.key.startsWith('during-outage/') && r.last_error_code === 'TRIB_ERR_CORE_UNREACHABLE'),
    60_000,
    () => JSON.stringify(journalRows(journal).map((r) => [r.key, r.state, r.last_error_code, r.last_error])) + agent.stderr().slice(-3000),
  );
  const status = await runCli(['status', '-c', config]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /backlog: 2 objects pending/);
  assert.match(status.stdout, /oldest pending \d/);
  // One line per object, or one for both when they failed the same way (their errors grouped).
  assert.match(
    status.stdout,
    /(?:edge\/during-outage\/\d\.json \(attempts 0\)|2 objects \(latest [^;]+; e\.g\. edge\/during-outage\/\d\.json, edge\/during-outage\/\d\.json\)) TRIB_ERR_CORE_UNREACHABLE/,
  );
  const json = JSON.parse((await runCli(['status', '--json', '-c', config])).stdout) as { totals: { pendingObjects: number } };
  assert.equal(json.totals.pendingObjects, 2);

  await sleep(2000);
  relay.setDown(false);
  await waitFor('the backlog to drain after the outage', async () => (await listKeys(core, 'lake', 'site-a/')).length === 5, 90_000);
  assert.deepEqual(
    journalRows(journal)
      .map((r) => [r.key, r.state, r.attempts])
      .sort(),
    [
      ['during-outage/0.json', 'done', 0],
      ['during-outage/1.json', 'done', 0],
      ['first/0.json', 'done', 0],
      ['first/1.json', 'done', 0],
      ['first/2.json', 'done', 0],
    ],
  );

  // The outage and its duration, on /metrics and in the heartbeat.
  const address = await listeningAddress(agent);
  const metrics = await (await fetch(`http://${address}/metrics`)).text();
  assert.match(metrics, /^tributary_outages_total\{side="core"\} 1$/m);
  const outageSeconds = Number(/^tributary_outage_seconds_total\{side="core"\} ([\d.]+)$/m.exec(metrics)?.[1]);
  assert.ok(outageSeconds >= 1, `outage of ${outageSeconds}s`);
  assert.match(metrics, /^tributary_outage_seconds\{side="core"\} 0$/m);
  assert.match(metrics, /^tributary_core_reachable 1$/m);
  await waitFor('a heartbeat that shows the outage', async () => {
    // s3rver answers a PUT before the data is all on disk: a read may see a partial document.
    const text = (await getObject(core, 'lake', '_tributary/sites/site-a/heartbeat.json').catch(() => Buffer.from('{}'))).toString();
    let beat: { lastOutage?: { side: string; seconds: number } | null };
    try {
      beat = JSON.parse(text) as typeof beat;
    } catch {
      return false;
    }
    return beat.lastOutage?.side === 'core' && beat.lastOutage.seconds >= 1;
  });

  const stoppedAt = Date.now();
  agent.child.kill('SIGTERM');
  const result = await agent.done;
  assert.equal(result.code, 0, result.stderr);
  assert.ok(Date.now() - stoppedAt < 10_000, 'stopped within seconds');
  assert.match(result.stderr, /agent stopped/);
});

test('agent: SIGTERM during a large upload exits 0 quickly and the object resumes later', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const relay = await startTcpRelay(core.port, { uploadRate: 256 * 1024 });
  t.after(() => relay.close());
  const doc = testConfigDocument(dir, edge, core, { extra: { transfer: { partSize: '5MiB', multipartThreshold: '5MiB' } } });
  (doc['core'] as Record<string, unknown>)['endpoint'] = relay.endpoint;
  const config = join(dir, 'tributary.yaml');
  writeFileSync(config, stringify(doc));
  const body = Buffer.alloc(40 * 1024 * 1024, 1);
  await putObject(edge, 'edge', 'big.bin', body);

  const agent = spawnCli(['agent', '-c', config]);
  t.after(() => killIfRunning(agent));
  await waitFor('the upload to start', () => {
    try {
      return journalRows(join(dir, 'journal')).some((r) => r.state === 'transferring');
    } catch {
      return false;
    }
  });
  await sleep(500);
  const stoppedAt = Date.now();
  agent.child.kill('SIGTERM');
  const result = await agent.done;
  assert.equal(result.code, 0, result.stderr);
  assert.ok(Date.now() - stoppedAt < 10_000, `took ${Date.now() - stoppedAt} ms`);
  const [row] = journalRows(join(dir, 'journal'));
  assert.equal(row!.state, 'queued', 'released, not failed');
  assert.equal(row!.attempts, 0);

  relay.setUploadRate(undefined);
  const sync = await runCli(['sync', '--once', '-c', config]);
  assert.equal(sync.code, 0, sync.stderr);
  assert.equal((await listKeys(core, 'lake', 'site-a/')).length, 1);
});
