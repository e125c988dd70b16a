/**
 * The heartbeat in the core: written while the agent runs, with the backlog, lag and reachability
 * the fleet view needs, and a last one with state `stopped` on a clean shutdown. No secret in it.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { killIfRunning, runCli, spawnCli } from '../helpers/cli.js';
import { getObject, headObject, listKeys, putObject, readJsonBeingRewritten, startTestS3 } from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';
import { writeTestConfig } from '../helpers/test-config.js';

const KEYS = { accessKeyId: 'HBKEY0001', secretAccessKey: 'hb-secret-7d1e' };
const HEARTBEAT = '_tributary/sites/store-9/heartbeat.json';

interface Heartbeat {
  schema: string;
  site: string;
  agentVersion: string;
  startedAt: string;
  writtenAt: string;
  state: string;
  mode?: string;
  intervalSeconds: number;
  backlog: { pendingObjects: number; deadObjects: number; failedObjects: number };
  oldestPendingAgeSeconds: number | null;
  lag: { samples: number; p50Seconds: number | null; p99Seconds: number | null; windowSeconds: number };
  throughput: { objectsPerSecond: number; bytesPerSecond: number };
  reachable: { edge: boolean; core: boolean };
  journalFreeBytes: number | null;
}

test('heartbeat: written every interval with backlog, lag and reachability, and "stopped" on SIGTERM', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge'], KEYS);
  const core = await startTestS3(t, dir, 'core', ['lake'], KEYS);
  for (let i = 0; i < 5; i += 1) await putObject(edge, 'edge', `h/${i}.json`, `{"i":${i}}`);
  const config = writeTestConfig(dir, edge, core, { site: 'store-9', extra: { scan: { interval: '1s' }, heartbeat: { interval: '1s' } } });
  const agent = spawnCli(['agent', '-c', config]);
  t.after(() => killIfRunning(agent));

  // The agent rewrites its heartbeat every second: reading retries until the JSON is whole.
  const read = async (): Promise<Heartbeat> => {
    for (let attempt = 0; ; attempt += 1) {
      const beat = await readJsonBeingRewritten(core, 'lake', HEARTBEAT);
      if (beat !== undefined) return beat as Heartbeat;
      if (attempt >= 20) throw new Error(`no whole heartbeat in ${attempt + 1} reads`);
      await sleep(50);
    }
  };
  const deadline = Date.now() + 30_000;
  let beat: Heartbeat | undefined;
  for (;;) {
    const keys = await listKeys(core, 'lake');
    if (keys.includes(HEARTBEAT) && keys.filter((k) => k.startsWith('store-9/')).length === 5) {
      beat = await read().catch(() => undefined);
      if (beat?.lag.samples === 5) break;
    }
    assert.ok(Date.now() < deadline, `no complete heartbeat: ${JSON.stringify(beat)} ${agent.stderr()}`);
    await sleep(200);
  }
  assert.equal(beat.schema, 'tributary.heartbeat/v1');
  assert.equal(beat.site, 'store-9');
  assert.equal(beat.state, 'running');
  assert.equal(beat.intervalSeconds, 1);
  assert.match(beat.agentVersion, /^\d+\.\d+\.\d+/);
  assert.deepEqual(beat.backlog, {
    pendingObjects: 0,
    pendingBytes: 0,
    failedObjects: 0,
    deadObjects: 0,
    vanishedObjects: 0,
    forgottenObjects: 0,
  });
  assert.equal(beat.oldestPendingAgeSeconds, null);
  assert.ok(beat.lag.p50Seconds !== null && beat.lag.p50Seconds >= 0 && beat.lag.p99Seconds! >= beat.lag.p50Seconds);
  assert.ok(beat.throughput.objectsPerSecond > 0);
  assert.deepEqual(beat.reachable, { edge: true, core: true });
  assert.ok(beat.journalFreeBytes === null || beat.journalFreeBytes > 0);
  const first = Date.parse(beat.writtenAt);
  await sleep(1500);
  assert.ok(Date.parse((await read()).writtenAt) > first, 'rewritten every interval');
  const head = await headObject(core, 'lake', HEARTBEAT);
  assert.equal(head.ContentType, 'application/json');

  agent.child.kill('SIGTERM');
  const result = await agent.done;
  assert.equal(result.code, 0, result.stderr);
  const last = await read();
  assert.equal(last.state, 'stopped');
  const text = (await getObject(core, 'lake', HEARTBEAT)).toString();
  for (const secret of [KEYS.accessKeyId, KEYS.secretAccessKey, dir]) assert.ok(!text.includes(secret), `heartbeat leaks ${secret}`);
});

test('heartbeat: sync --once writes one at the end of each run (mode once, its interval the time between runs), so the fleet view sees cron sites', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge'], KEYS);
  const core = await startTestS3(t, dir, 'core', ['lake'], KEYS);
  await putObject(edge, 'edge', 'a.json', '{}');
  const config = writeTestConfig(dir, edge, core, { site: 'store-9', extra: { heartbeat: { interval: '1h' } } });
  const sync = await runCli(['sync', '--once', '-c', config]);
  assert.equal(sync.code, 0, sync.stderr);
  const beat = JSON.parse((await getObject(core, 'lake', HEARTBEAT)).toString()) as Heartbeat;
  assert.equal(beat.mode, 'once');
  assert.equal(beat.state, 'stopped');
  assert.equal(beat.intervalSeconds, 3600);
  assert.equal(beat.backlog.pendingObjects, 0);
  assert.ok(!JSON.stringify(beat).includes(KEYS.secretAccessKey));
  const fleet = await runCli(['fleet', '--json', '-c', config]);
  assert.equal(fleet.code, 0, fleet.stdout + fleet.stderr);
  assert.deepEqual(
    (JSON.parse(fleet.stdout) as { sites: { site: string; status: string }[] }).sites.map((s) => [s.site, s.status]),
    [['store-9', 'healthy']],
  );
});
