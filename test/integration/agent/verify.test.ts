/**
 * The audit and repair of `verify` called as the application service (agent/verify.ts), over a
 * real journal and fake stores: the result the command prints, that a plain audit writes
 * nothing, and that a repair lands again what the core lost and checks it again.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';

import { runSyncOnce } from '../../../src/agent/sync-once.js';
import { runVerify } from '../../../src/agent/verify.js';
import { parseConfig } from '../../../src/config/load.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { FakeLake, FakeSource } from '../../helpers/fakes.js';
import { journalRows } from '../../helpers/journal-db.js';
import { tempDir } from '../../helpers/temp-dir.js';

async function synced(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t);
  const config = parseConfig({
    site: 'site-a',
    journal: join(dir, 'journal'),
    edge: { endpoint: 'http://127.0.0.1:1', buckets: ['edge'] },
    core: { endpoint: 'http://127.0.0.1:2', bucket: 'lake' },
    rules: [{ match: { prefix: 'tmp/' }, exclude: true }],
  });
  const source = new FakeSource();
  const lake = new FakeLake();
  for (const key of ['a.json', 'b.json', 'c.json', 'tmp/scratch']) source.put('edge', key, `the ${key} object`);
  const signal = new AbortController().signal;
  await runSyncOnce(config, { retryWindowMs: 1000, maxOutageMs: 1000, signal }, { logger: silentLogger, source, lake });
  const verify = (options: { deep?: boolean; repair?: boolean } = {}) =>
    runVerify(config, { deep: false, retained: false, repair: false, signal, ...options }, { logger: silentLogger, source, lake });
  return { config, source, lake, verify };
}

test('verify: every object in scope checked, nothing found after a sync', async (t) => {
  const { verify } = await synced(t);
  assert.deepEqual(await verify(), { checked: 3, retainedChecked: 0, problems: [] });
  assert.deepEqual(await verify({ deep: true }), { checked: 3, retainedChecked: 0, problems: [] });
});

test('verify: what the core lost or holds otherwise is found, in key order; a plain audit changes nothing', async (t) => {
  const { config, source, lake, verify } = await synced(t);
  lake.objects.delete('site-a/edge/c.json');
  const b = lake.objects.get('site-a/edge/b.json')!;
  lake.objects.set('site-a/edge/b.json', { ...b, content: { 'cache-control': 'no-store' } });
  source.put('edge', 'new.json', 'not journaled yet');
  const rowsBefore = journalRows(config.journal);
  const result = await verify();
  assert.deepEqual(result, {
    checked: 4,
    retainedChecked: 0,
    problems: [
      { bucket: 'edge', key: 'b.json', problem: 'different', detail: 'Cache-Control: core "no-store", edge (none)' },
      { bucket: 'edge', key: 'c.json', problem: 'missing', detail: 'core object site-a/edge/c.json does not exist' },
      {
        bucket: 'edge',
        key: 'new.json',
        problem: 'missing',
        detail: 'not in the journal (the next scan queues it); no core object site-a/edge/new.json',
      },
    ],
  });
  assert.deepEqual(journalRows(config.journal), rowsBefore, 'a reader writes nothing');
  assert.equal(lake.objects.has('site-a/edge/c.json'), false);
});

test('verify --repair: lands again what was missing or different, says how, and nothing is left', async (t) => {
  const { lake, verify } = await synced(t);
  lake.objects.delete('site-a/edge/c.json');
  const a = lake.objects.get('site-a/edge/a.json')!;
  lake.objects.set('site-a/edge/a.json', { ...a, data: Buffer.from('THE a.json object') });
  const result = await verify({ repair: true, deep: true });
  assert.deepEqual(
    result.problems.map((p) => [p.key, p.problem]),
    [
      ['a.json', 'different'],
      ['c.json', 'missing'],
    ],
  );
  assert.deepEqual(result.repair, {
    queued: 2,
    journaled: 0,
    adopted: 0,
    landed: 2,
    repaired: [
      { bucket: 'edge', key: 'a.json', how: 'landed again' },
      { bucket: 'edge', key: 'c.json', how: 'landed again' },
    ],
    remaining: [],
  });
  assert.equal(lake.objects.get('site-a/edge/a.json')!.data.toString(), 'the a.json object');
  assert.equal(lake.objects.get('site-a/edge/c.json')!.data.toString(), 'the c.json object');
  assert.deepEqual(await verify({ deep: true }), { checked: 3, retainedChecked: 0, problems: [] });
});
