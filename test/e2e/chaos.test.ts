/**
 * Chaos: objects (some multipart) replicate through fault-injecting proxies (resets mid-body, 500s,
 * 503 SlowDown with Retry-After, stalls, slow bodies, truncated listings) while the agent is SIGKILLed and
 * restarted at random moments. At the end every object is in the core, identical by SHA-256, none
 * is dead, nothing landed outside the site prefix, and the journal passes SQLite's integrity check.
 * `npm run soak` runs the same longer (CHAOS_OBJECTS, CHAOS_KILLS) and prints its figures.
 * A second run adds edge retention and deletes: propagate, with objects arriving between kills:
 * the edge is emptied as objects land and the core keeps every one.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';

import { stringify } from 'yaml';

import { forEachConcurrently } from '../../src/core/for-each-concurrently.js';
import { killIfRunning, runCli, spawnCli } from '../helpers/cli.js';
import { startFaultProxy, type FaultProxy, type FaultRates } from '../helpers/fault-proxy.js';
import { readJournal } from '../helpers/journal-db.js';
import { getObject, listKeys, putObject, startTestS3, type TestS3 } from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testConfigDocument } from '../helpers/test-config.js';
import { waitFor } from '../helpers/wait.js';

const OBJECTS = Number(process.env['CHAOS_OBJECTS'] ?? 2000);
const KILLS = Number(process.env['CHAOS_KILLS'] ?? 10);
const LARGE = Math.max(2, Math.round(OBJECTS / 200));
const RATES: FaultRates = { reset: 0.02, error500: 0.02, slowDown: 0.02, stall: 0.01, slow: 0.01, truncate: 0.05 };
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Keys of a chaos run: the first `large` are multipart-sized. */
function chaosKeys(count: number, large: number, prefix = ''): string[] {
  return Array.from({ length: count }, (_, i) => (i < large ? `${prefix}large/${i}.bin` : `${prefix}small/${String(i % 40).padStart(2, '0')}/${i}.json`));
}

/** Writes random bodies under `keys` (16 at a time), recording each SHA-256 in `hashes`. */
async function seed(edge: TestS3, keys: readonly string[], large: number, hashes: Map<string, string>): Promise<void> {
  await forEachConcurrently(keys, 16, async (key, i) => {
    const body = i < large ? randomBytes(6 * 1024 * 1024 + i * 123_457) : randomBytes(100 + ((i * 7919) % 8000));
    hashes.set(key, sha256(body));
    await putObject(edge, 'edge', key, body);
  });
}

/** Starts the agent and SIGKILLs it at a random moment, `kills` times; `afterEach` runs after each kill. */
async function killRepeatedly(t: TestContext, config: string, kills: number, afterEach: (kill: number) => void | Promise<void>): Promise<void> {
  for (let kill = 0; kill < kills; kill += 1) {
    const agent = spawnCli(['agent', '-c', config]);
    t.after(() => killIfRunning(agent));
    await sleep(400 + Math.random() * 2500);
    agent.child.kill('SIGKILL');
    await agent.done;
    await afterEach(kill);
  }
}

interface ChaosWorld {
  readonly dir: string;
  readonly edge: TestS3;
  readonly core: TestS3;
  readonly edgeProxy: FaultProxy;
  readonly coreProxy: FaultProxy;
}

/** An edge and a core s3rver, each behind a fault proxy injecting RATES. */
async function chaosWorld(t: TestContext): Promise<ChaosWorld> {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const edgeProxy = await startFaultProxy(edge.port, RATES);
  const coreProxy = await startFaultProxy(core.port, RATES);
  t.after(() => Promise.all([edgeProxy.close(), coreProxy.close()]));
  return { dir, edge, core, edgeProxy, coreProxy };
}

/** The agent's config for a chaos world (both endpoints through their proxies); returns its path. */
function writeChaosConfig(world: ChaosWorld, extra: Record<string, unknown>): string {
  const doc = testConfigDocument(world.dir, world.edge, world.core, {
    extra: {
      transfer: { concurrency: 8, partSize: '5MiB', multipartThreshold: '5MiB', retryBase: '50ms', retryCap: '500ms', maxAttempts: 25 },
      edge: { requestTimeout: '3s' },
      core: { requestTimeout: '3s' },
      ...extra,
    },
  });
  (doc['edge'] as Record<string, unknown>)['endpoint'] = world.edgeProxy.endpoint;
  (doc['core'] as Record<string, unknown>)['endpoint'] = world.coreProxy.endpoint;
  const config = join(world.dir, 'tributary.yaml');
  writeFileSync(config, stringify(doc));
  return config;
}

test(`chaos: ${OBJECTS} objects through faulty links, the agent SIGKILLed ${KILLS} times`, { timeout: 30 * 60_000 }, async (t) => {
  const started = Date.now();
  const world = await chaosWorld(t);
  const { dir, edge, core, edgeProxy, coreProxy } = world;

  const hashes = new Map<string, string>();
  const keys = chaosKeys(OBJECTS, LARGE);
  await seed(edge, keys, LARGE, hashes);

  const config = writeChaosConfig(world, {
    scan: { interval: '2s', pageSize: 200 },
    heartbeat: { interval: '2s' },
    manifests: { interval: '2s' },
  });
  const journal = join(dir, 'journal');
  const doneCount = () => {
    try {
      return readJournal(journal, (db) => (db.prepare(`SELECT count(*) AS n FROM objects WHERE state = 'done'`).get() as { n: number }).n);
    } catch {
      return 0;
    }
  };

  // Kill the agent at random moments while it works.
  const killedAt: number[] = [];
  await killRepeatedly(t, config, KILLS, () => {
    killedAt.push(doneCount());
  });

  // Then let it finish, faults still on.
  const agent = spawnCli(['agent', '-c', config, '--log-level', 'info']);
  t.after(() => killIfRunning(agent));
  const deadline = Date.now() + 20 * 60_000;
  while (doneCount() < OBJECTS || !agent.stderr().includes('"msg":"agent started"')) {
    assert.ok(Date.now() < deadline, `only ${doneCount()} of ${OBJECTS} done: ${agent.stderr().slice(-3000)}`);
    assert.equal(agent.child.exitCode, null, agent.stderr().slice(-3000));
    await sleep(500);
  }
  agent.child.kill('SIGTERM');
  const stopped = await agent.done;
  assert.equal(stopped.code, 0, `signal ${String(stopped.signal)}: ${stopped.stderr.slice(-3000)}`);

  // Every object identical in the core; nothing outside the site prefix; nothing dead.
  const landed = await listKeys(core, 'lake');
  const outside = landed.filter((k) => !k.startsWith('site-a/') && !k.startsWith('_tributary/'));
  assert.deepEqual(outside, []);
  const objects = landed.filter((k) => k.startsWith('site-a/'));
  assert.equal(objects.length, OBJECTS);
  for (const key of keys) {
    const body = await getObject(core, 'lake', `site-a/edge/${key}`);
    assert.equal(sha256(body), hashes.get(key), key);
  }
  const states = readJournal(journal, (db) => db.prepare('SELECT state, count(*) AS n FROM objects GROUP BY state').all() as { state: string; n: number }[]);
  assert.deepEqual(states, [{ state: 'done', n: OBJECTS }]);
  const integrity = readJournal(journal, (db) => db.pragma('integrity_check', { simple: true }));
  assert.equal(integrity, 'ok');

  // The faults really happened, and the audit agrees once the links are clean.
  for (const proxy of [edgeProxy, coreProxy]) proxy.setRates({});
  const injected = { edge: edgeProxy.injected, core: coreProxy.injected };
  assert.ok(
    injected.edge.reset + injected.core.reset > 0 && injected.core.error500 > 0 && injected.core.slowDown > 0 && injected.edge.truncate > 0 && injected.edge.slow + injected.core.slow > 0,
    JSON.stringify(injected),
  );
  const verify = await runCli(['verify', '-c', config]);
  assert.equal(verify.code, 0, verify.stdout.slice(-2000));
  const figures = { objects: OBJECTS, large: LARGE, kills: KILLS, doneAtEachKill: killedAt, seconds: Math.round((Date.now() - started) / 1000), injected };
  t.diagnostic(JSON.stringify(figures));
  if (process.env['CHAOS_REPORT']) writeFileSync(process.env['CHAOS_REPORT'], `${JSON.stringify(figures, null, 2)}\n`);
});

test('chaos with edge retention and deletes: propagate: the edge is emptied as objects land, the core loses nothing', { timeout: 10 * 60_000 }, async (t) => {
  const world = await chaosWorld(t);
  const { dir, edge, core, edgeProxy, coreProxy } = world;
  const hashes = new Map<string, string>();
  const waves = 4;
  const perWave = 100;
  await seed(edge, chaosKeys(perWave, 2, 'wave-0/'), 2, hashes);

  const config = writeChaosConfig(world, {
    scan: { interval: '1s', pageSize: 50 },
    retention: { deleteFromEdgeAfter: '1s', interval: '1s' },
    deletes: 'propagate',
  });

  // New objects keep arriving while the agent is killed: retention, scans (whose passes see keys
  // vanish) and transfers all interleave with the kills.
  await killRepeatedly(t, config, 6, async (kill) => {
    if (kill % 2 === 1 && kill < 2 * waves - 1) await seed(edge, chaosKeys(perWave, 0, `wave-${(kill + 1) / 2}/`), 0, hashes);
  });
  const agent = spawnCli(['agent', '-c', config, '--log-level', 'info']);
  t.after(() => killIfRunning(agent));
  // A DELETE whose answer a fault cut off stays 'deleting' until the next round finds it gone.
  const recordedDeleted = () => {
    try {
      return readJournal(join(dir, 'journal'), (db) => (db.prepare("SELECT count(*) AS n FROM objects WHERE edge_retention = 'deleted'").get() as { n: number }).n);
    } catch {
      return 0;
    }
  };
  await waitFor(
    'every object to land, the edge to be emptied and every deletion recorded',
    async () => (await listKeys(edge, 'edge')).length === 0 && (await listKeys(core, 'lake', 'site-a/')).length === hashes.size && recordedDeleted() === hashes.size,
    5 * 60_000,
    () => agent.stderr().slice(-3000),
  );
  agent.child.kill('SIGTERM');
  assert.equal((await agent.done).code, 0);

  for (const proxy of [edgeProxy, coreProxy]) proxy.setRates({});
  for (const [key, hash] of hashes) assert.equal(sha256(await getObject(core, 'lake', `site-a/edge/${key}`)), hash, key);
  const states = readJournal(join(dir, 'journal'), (db) => ({
    objects: db.prepare('SELECT state, count(*) AS n FROM objects GROUP BY state').all(),
    retention: db.prepare('SELECT edge_retention, count(*) AS n FROM objects GROUP BY edge_retention').all(),
    coreDeletions: db.prepare("SELECT count(*) AS n FROM deletions WHERE outcome = 'deleted'").get(),
    integrity: db.pragma('integrity_check', { simple: true }),
  }));
  assert.deepEqual(states.objects, [{ state: 'done', n: hashes.size }], JSON.stringify(states));
  assert.deepEqual(states.retention, [{ edge_retention: 'deleted', n: hashes.size }], JSON.stringify(states));
  assert.deepEqual(states.coreDeletions, { n: 0 }, 'no core copy was deleted');
  assert.equal(states.integrity, 'ok');
  t.diagnostic(JSON.stringify({ objects: hashes.size, injected: { edge: edgeProxy.injected, core: coreProxy.injected } }));
});
