/**
 * WAN outage: the core blackholed for a while (requests hang unanswered, the client's timeout
 * decides), then back. No object goes dead or uses an attempt because of the outage, the backlog
 * drains afterwards at full speed, and /metrics and the heartbeat show the outage and its duration.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { stringify } from 'yaml';

import { killIfRunning, listeningAddress, spawnCli } from '../helpers/cli.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { journalRows, type ObjectRowView } from '../helpers/journal-db.js';
import { getObject, listKeys, putObject, readJsonBeingRewritten, startTestS3 } from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { testConfigDocument } from '../helpers/test-config.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** One sample of a Prometheus text exposition, or undefined when it is not there. */
function sample(metrics: string, name: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

test('outage: the core blackholed, then back: nothing dead, no attempt used, the backlog drains, metrics and heartbeat show the outage', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const proxy = await startFaultProxy(core.port);
  t.after(() => proxy.close());
  const doc = testConfigDocument(dir, edge, core, {
    extra: {
      scan: { interval: '1s' },
      heartbeat: { interval: '1s' },
      // A blackholed request fails after 2 s, once (no retry inside the S3 client).
      core: { requestTimeout: '2s', maxAttempts: 1 },
      // The drain-at-full-speed check, without asserting any timing: if the outage cost an object
      // an attempt, or a per-object backoff, its next try would be 10+ minutes away (retryBase) and
      // the drain below would time out; a second failed attempt would make it dead (maxAttempts).
      transfer: { retryBase: '10m', retryCap: '30m', maxAttempts: 2, partSize: '5MiB', multipartThreshold: '5MiB' },
    },
  });
  (doc['core'] as Record<string, unknown>)['endpoint'] = proxy.endpoint;
  const config = join(dir, 'tributary.yaml');
  writeFileSync(config, stringify(doc));
  const journal = join(dir, 'journal');
  const bodies = new Map<string, Buffer>();
  const put = async (key: string, body: Buffer) => {
    bodies.set(key, body);
    await putObject(edge, 'edge', key, body);
  };

  for (let i = 0; i < 5; i += 1) await put(`before/${i}.json`, Buffer.from(`{"before":${i}}\n`));
  const agent = spawnCli(['agent', '-c', config, '--log-level', 'info']);
  t.after(() => killIfRunning(agent));
  const address = await listeningAddress(agent);
  const metrics = async () => (await fetch(`http://${address}/metrics`)).text();
  const rowsNow = () => {
    try {
      return journalRows(journal);
    } catch {
      return [];
    }
  };
  // Diagnostics: state, attempts, deferrals, seconds until the next try, the last error.
  const show = (rows: ObjectRowView[]) =>
    JSON.stringify(
      rows
        .filter((r) => r.state !== 'done')
        .map((r) => [
          r.key,
          r.state,
          r.attempts,
          r.deferrals,
          Math.round((r.next_attempt_at - Date.now()) / 1000),
          r.last_error_code,
          r.last_error,
        ]),
    );
  await waitFor('the first objects to land', async () => (await listKeys(core, 'lake', 'site-a/')).length === 5);

  // The outage: every request to the core hangs unanswered. It lasts until the test ends it
  // (the 2-minute bound only keeps a failed test from hanging on it).
  proxy.blackhole(120_000);
  for (let i = 0; i < 30; i += 1)
    await put(`during/${String(i).padStart(2, '0')}.json`, Buffer.from(`{"during":${i},"pad":"${'x'.repeat(i * 37)}"}\n`));
  await put('during/camera.bin', randomBytes(12 * 1024 * 1024)); // multipart: parts of 5, 5 and 2 MiB

  await waitFor(
    'the outage to be noticed in the journal',
    () => rowsNow().some((r) => r.key.startsWith('during/') && r.state === 'queued' && r.last_error_code === 'TRIB_ERR_CORE_UNREACHABLE'),
    60_000,
    () => show(rowsNow()) + agent.stderr().slice(-3000),
  );
  // The circuit is open (transfers paused, probing): the core unreachable, an outage in progress.
  // It is held until the outage has lasted 3 s as the agent counts it.
  let during = '';
  await waitFor(
    'an outage of 3 s in progress on /metrics',
    async () => {
      during = await metrics();
      return sample(during, 'tributary_core_reachable') === 0 && (sample(during, 'tributary_outage_seconds{side="core"}') ?? 0) >= 3;
    },
    60_000,
    () => during,
  );
  const noticed = rowsNow();
  assert.ok(proxy.injected.blackholed > 0);
  assert.ok(
    noticed.every((r) => r.state !== 'dead' && r.attempts === 0),
    `the outage used attempts or killed objects: ${show(noticed)}`,
  );
  assert.ok(
    noticed.some((r) => r.state !== 'done'),
    'a backlog waits for the core',
  );
  assert.equal(sample(during, 'tributary_outages_total{side="core"}'), 0, 'not completed yet');
  proxy.blackhole(0); // the core is back

  // s3rver lists an object it is still writing with a partial size (same ETag): the agent may
  // journal such a listing as a version of its own, superseded by the whole one a scan later.
  // So an older row of a key may be `superseded`; the latest row of every key must be `done`.
  const settled = (r: ObjectRowView) => r.state === 'done' || r.state === 'dead' || r.state === 'superseded';
  await waitFor(
    'the backlog to drain after the outage',
    // In the core and settled in the journal (a multipart object is listed a moment before its
    // landing is journaled). A `failed` row would wait 10 minutes: this times out and shows it.
    async () => (await listKeys(core, 'lake', 'site-a/')).length === bodies.size && rowsNow().every(settled),
    60_000,
    () => show(rowsNow()) + agent.stderr().slice(-3000),
  );
  const rows = journalRows(journal);
  assert.ok(
    rows.every((r) => r.state !== 'dead' && r.attempts === 0),
    `none dead, no attempt used: ${show(rows)}`,
  );
  const latest = new Map<string, ObjectRowView>();
  for (const row of rows) latest.set(row.key, row); // rows are in id order
  assert.deepEqual([...latest.keys()].sort(), [...bodies.keys()].sort());
  for (const row of rows) {
    if (row !== latest.get(row.key)) assert.equal(row.state, 'superseded', `${row.key}: ${show([row])}`);
  }
  // Every object landed, byte for byte (s3rver answers a PUT before all the data is on disk:
  // read until it is whole).
  for (const row of latest.values()) {
    assert.equal(row.state, 'done', row.key);
    const want = sha256(bodies.get(row.key)!);
    assert.equal(row.sha256, want, row.key);
    let got = '';
    await waitFor(
      `${row.core_key} to match the edge`,
      async () => {
        got = sha256(await getObject(core, 'lake', row.core_key!).catch(() => Buffer.alloc(0)));
        return got === want;
      },
      10_000,
      () => `sha256 ${got}, want ${want}`,
    );
  }

  // The large object went the multipart way (its parts journaled, resumable across the outage).
  const parts = core.requests().filter((r) => r.method === 'PUT' && r.status === 200 && /camera\.bin\?.*partNumber=/.test(r.url));
  assert.ok(parts.length >= 3, JSON.stringify(parts));

  // The outage and its duration, on /metrics ...
  const after = await metrics();
  assert.ok((sample(after, 'tributary_outages_total{side="core"}') ?? 0) >= 1, after);
  assert.ok((sample(after, 'tributary_outage_seconds_total{side="core"}') ?? 0) >= 3, after);
  assert.equal(sample(after, 'tributary_outage_seconds{side="core"}'), 0, 'none in progress');
  assert.equal(sample(after, 'tributary_core_reachable'), 1);
  assert.equal(sample(after, 'tributary_outages_total{side="edge"}'), 0, 'the edge was never out');
  // ... and in the heartbeat.
  let beat: { outage?: unknown; lastOutage?: { side: string; seconds: number; startedAt: string; endedAt: string } | null } = {};
  await waitFor(
    'a heartbeat that shows the outage',
    async () => {
      const read = await readJsonBeingRewritten(core, 'lake', '_tributary/sites/site-a/heartbeat.json');
      if (read === undefined) return false;
      beat = read as typeof beat;
      return beat.lastOutage?.side === 'core' && beat.outage === null;
    },
    30_000,
    () => `${JSON.stringify(beat)}\n${agent.stderr().slice(-3000)}`,
  );
  assert.ok(beat.lastOutage!.seconds >= 3, JSON.stringify(beat));
  assert.ok(Date.parse(beat.lastOutage!.endedAt) > Date.parse(beat.lastOutage!.startedAt));

  agent.child.kill('SIGTERM');
  const result = await agent.done;
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /agent stopped/);
});
