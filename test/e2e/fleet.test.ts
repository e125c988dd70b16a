/**
 * `tributary fleet` over a core bucket holding a healthy, a stale, a lagging and a failing site
 * (heartbeats written as agents write them), with a config that holds only `core` and `fleet`.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { stringify } from 'yaml';

import { forEachConcurrently } from '../../src/core/for-each-concurrently.js';
import { runCli } from '../helpers/cli.js';
import { putObject, startTestS3 } from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';

function heartbeat(
  site: string,
  overrides: {
    ageSeconds?: number;
    dead?: number;
    oldestPending?: number | null;
    state?: 'running' | 'stopped';
    mode?: 'agent' | 'once';
  } = {},
) {
  return JSON.stringify({
    schema: 'tributary.heartbeat/v1',
    site,
    agentVersion: '0.1.0',
    startedAt: new Date(Date.now() - 3_600_000).toISOString(),
    writtenAt: new Date(Date.now() - (overrides.ageSeconds ?? 2) * 1000).toISOString(),
    state: overrides.state ?? 'running',
    ...(overrides.mode === undefined ? {} : { mode: overrides.mode }),
    intervalSeconds: 30,
    backlog: { pendingObjects: 3, pendingBytes: 3000, failedObjects: 1, deadObjects: overrides.dead ?? 0 },
    oldestPendingAgeSeconds: overrides.oldestPending === undefined ? 12 : overrides.oldestPending,
    lag: { windowSeconds: 300, samples: 100, p50Seconds: 0.5, p99Seconds: 2.5 },
    throughput: { windowSeconds: 300, objectsPerSecond: 4.2, bytesPerSecond: 42_000 },
    reachable: { edge: true, core: true },
    journalFreeBytes: 1e10,
  });
}

test('fleet: healthy, stale, lagging and failing sites; exit 1; --json; a core-only config', async (t) => {
  const dir = tempDir(t);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  await putObject(core, 'lake', '_tributary/sites/store-1/heartbeat.json', heartbeat('store-1'));
  await putObject(core, 'lake', '_tributary/sites/store-2/heartbeat.json', heartbeat('store-2', { ageSeconds: 600 }));
  await putObject(core, 'lake', '_tributary/sites/store-3/heartbeat.json', heartbeat('store-3', { oldestPending: 900 }));
  await putObject(core, 'lake', '_tributary/sites/store-4/heartbeat.json', heartbeat('store-4', { dead: 2 }));
  await putObject(core, 'lake', '_tributary/sites/store-5/heartbeat.json', '{not json');
  await putObject(core, 'lake', '_tributary/sites/store-6/heartbeat.json', heartbeat('store-6', { state: 'stopped', ageSeconds: 3600 }));
  // Sites run by sync --once from cron: every run ends 'stopped'; only a missed run is news.
  await putObject(
    core,
    'lake',
    '_tributary/sites/store-7/heartbeat.json',
    heartbeat('store-7', { state: 'stopped', mode: 'once', ageSeconds: 600 }),
  );
  await putObject(
    core,
    'lake',
    '_tributary/sites/store-8/heartbeat.json',
    heartbeat('store-8', { state: 'stopped', mode: 'once', ageSeconds: 20, dead: 0 }),
  );
  await putObject(core, 'lake', 'store-1/telemetry/a.json', '{}');
  const file = join(dir, 'core.yaml');
  writeFileSync(
    file,
    stringify({
      core: {
        endpoint: core.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: core.accessKeyId, secretAccessKey: core.secretAccessKey },
        bucket: 'lake',
      },
      fleet: { lagThreshold: '5m', concurrency: 4 },
    }),
  );

  const table = await runCli(['fleet', '-c', file]);
  assert.equal(table.code, 1, table.stderr);
  const line = (site: string) => table.stdout.split('\n').find((l) => l.startsWith(site)) ?? '';
  assert.match(line('store-1'), /^store-1\s+healthy\s+4\s+2\.9 KiB\s+12s\s+3s\s+4\.2\/s/);
  assert.match(line('store-2'), /^store-2\s+stale\b.*no heartbeat for 6\d\ds/);
  assert.match(line('store-3'), /^store-3\s+lagging\b.*oldest pending 900s > 300s/);
  assert.match(line('store-4'), /^store-4\s+failing\b.*2 dead objects/);
  assert.match(line('store-5'), /^store-5\s+stale\b.*unreadable/);
  assert.match(line('store-6'), /^store-6\s+stopped\b.*agent stopped 36\d\ds ago, 4 objects pending/);
  assert.match(line('store-7'), /^store-7\s+stale\b.*no sync --once run for 6\d\ds \(heartbeat\.interval 30s\)/);
  assert.match(line('store-8'), /^store-8\s+healthy\b/);
  assert.match(table.stdout, /8 sites, 2 healthy, 6 not/);

  const json = await runCli(['fleet', '--json', '-c', file]);
  assert.equal(json.code, 1);
  const parsed = JSON.parse(json.stdout) as { sites: { site: string; status: string; bytesPerSecond: number | null }[]; unhealthy: number };
  // A site not heard from, or stopped, moves nothing now: no throughput, whatever its last heartbeat said.
  assert.deepEqual(
    parsed.sites.map((s) => [s.site, s.bytesPerSecond]),
    [
      ['store-1', 42_000],
      ['store-2', null],
      ['store-3', 42_000],
      ['store-4', 42_000],
      ['store-5', null],
      ['store-6', null],
      ['store-7', null],
      ['store-8', 42_000],
    ],
  );
  assert.match(line('store-2'), /^store-2\s+stale\s+4\s+2\.9 KiB\s+12s\s+3s\s+-\s/);
  assert.deepEqual(
    parsed.sites.map((s) => [s.site, s.status]),
    [
      ['store-1', 'healthy'],
      ['store-2', 'stale'],
      ['store-3', 'lagging'],
      ['store-4', 'failing'],
      ['store-5', 'stale'],
      ['store-6', 'stopped'],
      ['store-7', 'stale'],
      ['store-8', 'healthy'],
    ],
  );

  // Only healthy sites: exit 0.
  const healthyCore = await startTestS3(t, dir, 'core2', ['lake']);
  await putObject(healthyCore, 'lake', '_tributary/sites/store-1/heartbeat.json', heartbeat('store-1'));
  const healthyFile = join(dir, 'core2.yaml');
  writeFileSync(
    healthyFile,
    stringify({
      core: {
        endpoint: healthyCore.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        bucket: 'lake',
      },
    }),
  );
  const ok = await runCli(['fleet', '-c', healthyFile]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);

  // The fleet config is validated like any other: unknown fields and bad values name their path.
  writeFileSync(join(dir, 'bad.yaml'), stringify({ core: { bucket: 'lake' }, fleet: { lagThreshold: 'soon', extra: 1 } }));
  const bad = await runCli(['fleet', '-c', join(dir, 'bad.yaml')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /fleet\.lagThreshold: expected a duration/);
  assert.match(bad.stderr, /fleet\.extra: unknown field/);
});

test('fleet: more sites than one listing page (1,050) are all read', async (t) => {
  const dir = tempDir(t);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const count = 1050;
  await forEachConcurrently([...Array(count).keys()], 16, async (i) => {
    const site = `s-${String(i).padStart(4, '0')}`;
    await putObject(core, 'lake', `_tributary/sites/${site}/heartbeat.json`, heartbeat(site));
  });
  const file = join(dir, 'core.yaml');
  writeFileSync(
    file,
    stringify({
      core: {
        endpoint: core.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        bucket: 'lake',
      },
    }),
  );
  const result = await runCli(['fleet', '--json', '-c', file]);
  assert.equal(result.code, 0, result.stderr);
  const parsed = JSON.parse(result.stdout) as { sites: { site: string; status: string }[] };
  assert.equal(parsed.sites.length, count);
  assert.ok(parsed.sites.every((s) => s.status === 'healthy'));
  const lists = core.requests().filter((r) => r.method === 'GET' && r.url.includes('list-type=2'));
  assert.equal(lists.length, 2, 'two listing pages for 1,050 sites');
});
