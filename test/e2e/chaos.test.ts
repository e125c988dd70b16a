/**
 * Chaos: objects (some multipart) replicate through fault-injecting proxies (resets mid-body, 500s,
 * 503 SlowDown with Retry-After, stalls, truncated listings) while the agent is SIGKILLed and
 * restarted at random moments. At the end every object is in the core, identical by SHA-256, none
 * is dead, nothing landed outside the site prefix, and the journal passes SQLite's integrity check.
 * `npm run soak` runs the same longer (CHAOS_OBJECTS, CHAOS_KILLS) and prints its figures.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { stringify } from 'yaml';

import { killIfRunning, runCli, spawnCli } from '../helpers/cli.js';
import { startFaultProxy, type FaultRates } from '../helpers/fault-proxy.js';
import { readJournal } from '../helpers/journal-db.js';
import { getObject, listKeys, putObject, startTestS3 } from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testConfigDocument } from '../helpers/test-config.js';

const OBJECTS = Number(process.env['CHAOS_OBJECTS'] ?? 2000);
const KILLS = Number(process.env['CHAOS_KILLS'] ?? 10);
const LARGE = Math.max(2, Math.round(OBJECTS / 200));
const RATES: FaultRates = { reset: 0.02, error500: 0.02, slowDown: 0.02, stall: 0.01, truncate: 0.05 };
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

test(`chaos: ${OBJECTS} objects through faulty links, the agent SIGKILLed ${KILLS} times`, { timeout: 30 * 60_000 }, async (t) => {
  const started = Date.now();
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const edgeProxy = await startFaultProxy(edge.port, RATES);
  const coreProxy = await startFaultProxy(core.port, RATES);
  t.after(() => Promise.all([edgeProxy.close(), coreProxy.close()]));

  const hashes = new Map<string, string>();
  const keys = Array.from({ length: OBJECTS }, (_, i) => (i < LARGE ? `large/${i}.bin` : `small/${String(i % 40).padStart(2, '0')}/${i}.json`));
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < keys.length) {
        const i = next++;
        const body = i < LARGE ? randomBytes(6 * 1024 * 1024 + i * 123_457) : randomBytes(100 + ((i * 7919) % 8000));
        hashes.set(keys[i]!, sha256(body));
        await putObject(edge, 'edge', keys[i]!, body);
      }
    }),
  );

  const doc = testConfigDocument(dir, edge, core, {
    extra: {
      scan: { interval: '2s', pageSize: 200 },
      transfer: { concurrency: 8, partSize: '5MiB', multipartThreshold: '5MiB', retryBase: '50ms', retryCap: '500ms', maxAttempts: 25 },
      edge: { requestTimeout: '3s' },
      core: { requestTimeout: '3s' },
      heartbeat: { interval: '2s' },
      manifests: { interval: '2s' },
    },
  });
  (doc['edge'] as Record<string, unknown>)['endpoint'] = edgeProxy.endpoint;
  (doc['core'] as Record<string, unknown>)['endpoint'] = coreProxy.endpoint;
  const config = join(dir, 'tributary.yaml');
  writeFileSync(config, stringify(doc));
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
  for (let kill = 0; kill < KILLS; kill += 1) {
    const agent = spawnCli(['agent', '-c', config]);
    t.after(() => killIfRunning(agent));
    await sleep(400 + Math.random() * 2500);
    agent.child.kill('SIGKILL');
    await agent.done;
    killedAt.push(doneCount());
  }

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
  assert.ok(injected.edge.reset + injected.core.reset > 0 && injected.core.error500 > 0 && injected.core.slowDown > 0 && injected.edge.truncate > 0, JSON.stringify(injected));
  const verify = await runCli(['verify', '-c', config]);
  assert.equal(verify.code, 0, verify.stdout.slice(-2000));
  const figures = { objects: OBJECTS, large: LARGE, kills: KILLS, doneAtEachKill: killedAt, seconds: Math.round((Date.now() - started) / 1000), injected };
  t.diagnostic(JSON.stringify(figures));
  if (process.env['CHAOS_REPORT']) writeFileSync(process.env['CHAOS_REPORT'], `${JSON.stringify(figures, null, 2)}\n`);
});
