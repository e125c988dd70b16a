/**
 * Chaos with edge retention and deletes: propagate: objects keep arriving while the agent is
 * SIGKILLed at random moments, through fault-injecting proxies; the edge is emptied as objects
 * land, and the core keeps every one, identical by SHA-256.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';

import { chaosKeys, chaosWorld, killRepeatedly, seed, sha256, writeChaosConfig } from '../helpers/chaos.js';
import { killIfRunning, spawnCli } from '../helpers/cli.js';
import { readJournal } from '../helpers/journal-db.js';
import { getObject, listKeys } from '../helpers/local-s3.js';
import { waitFor } from '../helpers/wait.js';

test(
  'chaos with edge retention and deletes: propagate: the edge is emptied as objects land, the core loses nothing',
  { timeout: 10 * 60_000 },
  async (t) => {
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
        return readJournal(
          join(dir, 'journal'),
          (db) => (db.prepare("SELECT count(*) AS n FROM objects WHERE edge_retention = 'deleted'").get() as { n: number }).n,
        );
      } catch {
        return 0;
      }
    };
    await waitFor(
      'every object to land, the edge to be emptied and every deletion recorded',
      async () =>
        (await listKeys(edge, 'edge')).length === 0 &&
        (await listKeys(core, 'lake', 'site-a/')).length === hashes.size &&
        recordedDeleted() === hashes.size,
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
  },
);
