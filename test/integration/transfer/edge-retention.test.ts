/**
 * Edge retention rounds over the real journal with fake stores: re-planning when the periods
 * change, a DELETE interrupted by a crash, failing edge deletes, an unreachable edge, and
 * deletion propagation that never follows retention's own deletions.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';

import { buildAgent, type Agent } from '../../../src/agent/build-agent.js';
import { parseConfig } from '../../../src/config/load.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { mapS3Error } from '../../../src/s3/map-error.js';
import { FakeClock, FakeLake, FakeSource, sdkError } from '../../helpers/fakes.js';
import { readJournal } from '../../helpers/journal-db.js';
import { tempDir } from '../../helpers/temp-dir.js';

const DAY = 24 * 60 * 60_000;

function setup(t: Parameters<typeof tempDir>[0], retention: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const dir = tempDir(t);
  const clock = new FakeClock();
  const source = new FakeSource();
  const lake = new FakeLake();
  const make = (retentionNow: Record<string, unknown>): Agent => {
    const config = parseConfig({
      site: 'site-a',
      journal: join(dir, 'journal'),
      edge: { endpoint: 'http://127.0.0.1:1', buckets: ['edge'] },
      core: { endpoint: 'http://127.0.0.1:2', bucket: 'lake' },
      transfer: { concurrency: 2 },
      retention: retentionNow,
      ...extra,
    });
    const agent = buildAgent(config, { logger: silentLogger, clock, source, lake });
    t.after(() => agent.close());
    return agent;
  };
  return { dir, journal: join(dir, 'journal'), clock, source, lake, make, agent: make(retention) };
}

async function land(agent: Agent): Promise<void> {
  await agent.scan();
  await agent.runner.run({ mode: 'once', retryHorizonMs: 0, maxOutageMs: 0, signal: new AbortController().signal });
  agent.journal.flush();
}

function retentionOf(journal: string, key: string): { edge_retention: string | null; edge_retention_note: string | null } {
  return readJournal(journal, (db) =>
    db.prepare('SELECT edge_retention, edge_retention_note FROM objects WHERE key = ? ORDER BY id DESC LIMIT 1').get(key),
  ) as { edge_retention: string | null; edge_retention_note: string | null };
}

test('retention: a change of the period re-plans the objects still at the edge', async (t) => {
  const s = setup(t, { deleteFromEdgeAfter: '30d' });
  s.source.put('edge', 'a.json', 'a');
  await land(s.agent);
  s.clock.advance(2 * DAY);
  assert.equal((await s.agent.expireEdgeObjects())?.deleted, 0, 'not due under 30d');
  await s.agent.close();

  const shorter = s.make({ deleteFromEdgeAfter: '1d' });
  const round = await shorter.expireEdgeObjects();
  assert.equal(round?.deleted, 1, 'due under the new 1d period');
  assert.equal(s.source.objects.size, 0);
  assert.ok(s.lake.objects.has('site-a/edge/a.json'));
});

test('retention: without any period nothing is planned and no round runs', async (t) => {
  const s = setup(t, {});
  s.source.put('edge', 'a.json', 'a');
  await land(s.agent);
  s.clock.advance(3650 * DAY);
  assert.equal(s.agent.retentionEnabled, false);
  assert.equal(await s.agent.expireEdgeObjects(), undefined);
  assert.equal(s.source.objects.size, 1);
});

test('retention: a DELETE whose outcome a crash lost is finished by the next round', async (t) => {
  const s = setup(t, { deleteFromEdgeAfter: '1d' });
  s.source.put('edge', 'a.json', 'a');
  await land(s.agent);
  // As if a round marked the row, sent the DELETE, and died before recording the outcome.
  const row = s.agent.journal.latest('edge', 'a.json')!;
  assert.deepEqual(s.agent.journal.markEdgeDeleting([row.id]), [row.id]);
  s.source.objects.delete('edge/a.json');
  s.clock.advance(2 * DAY);
  const round = await s.agent.expireEdgeObjects();
  assert.equal(round?.deleted, 1);
  assert.equal(retentionOf(s.journal, 'a.json').edge_retention, 'deleted');
});

test("retention: an object deleted at the edge by someone else is not counted as retention's, and deletes: propagate still applies", async (t) => {
  const s = setup(t, { deleteFromEdgeAfter: '1d' }, { deletes: 'propagate' });
  s.source.put('edge', 'mine.json', 'm');
  s.source.put('edge', 'theirs.json', 't');
  await land(s.agent);
  s.source.objects.delete('edge/theirs.json');
  s.clock.advance(2 * DAY);
  const round = await s.agent.expireEdgeObjects();
  assert.deepEqual({ deleted: round?.deleted, kept: round?.kept }, { deleted: 1, kept: 1 });
  assert.match(retentionOf(s.journal, 'theirs.json').edge_retention_note ?? '', /gone from the edge before retention/);

  // A complete scan pass sees both keys gone; only the user's deletion reaches the core.
  await s.agent.scan();
  await s.agent.scan();
  await s.agent.propagateDeletions();
  assert.ok(s.lake.objects.has('site-a/edge/mine.json'), 'retention deleted it from the edge: the core copy stays');
  assert.ok(!s.lake.objects.has('site-a/edge/theirs.json'), 'the user deleted it: propagated');
});

test('retention: a refused DELETE is postponed, not retried in a loop, and the object stays', async (t) => {
  const s = setup(t, { deleteFromEdgeAfter: '1d', interval: '10m' });
  s.source.put('edge', 'a.json', 'a');
  s.source.put('edge', 'b.json', 'b');
  await land(s.agent);
  s.source.failNext('delete', sdkError.accessDenied, 1);
  s.clock.advance(2 * DAY);
  const round = await s.agent.expireEdgeObjects();
  assert.deepEqual({ deleted: round?.deleted, postponed: round?.postponed }, { deleted: 1, postponed: 1 });
  assert.equal(round?.stoppedBy, undefined, 'access denied on one object does not stop the round');
  assert.equal(s.source.objects.size, 1);
  const postponed = [...s.source.objects.keys()][0]!.slice('edge/'.length);
  assert.match(retentionOf(s.journal, postponed).edge_retention_note ?? '', /TRIB_ERR_EDGE_ACCESS_DENIED/);
  assert.equal(round?.refusals, 1);
  // A refusal certainly deleted nothing: not 'deleting', so a user's deletion of it would still propagate.
  assert.equal(retentionOf(s.journal, postponed).edge_retention, null);

  assert.equal((await s.agent.expireEdgeObjects())?.postponed, 0, 'not again before retention.interval');
  s.clock.advance(10 * 60_000);
  assert.equal((await s.agent.expireEdgeObjects())?.deleted, 1);
  assert.equal(s.source.objects.size, 0);
});

test('retention: an unreachable edge ends the round at the first failure', async (t) => {
  const s = setup(t, { deleteFromEdgeAfter: '1d' });
  for (let i = 0; i < 20; i += 1) s.source.put('edge', `k${i}.json`, String(i));
  await land(s.agent);
  s.source.failNext('head', sdkError.network, 1000);
  s.clock.advance(2 * DAY);
  const round = await s.agent.expireEdgeObjects();
  assert.equal(round?.stoppedBy?.code, 'TRIB_ERR_EDGE_UNREACHABLE');
  const headsTried = 1000 - s.source.failures.get('head')!.times;
  assert.ok(headsTried <= 2, `${headsTried} HEADs against an unreachable edge (concurrency 2)`);
  assert.equal(round?.postponed, headsTried, 'only the objects in flight are postponed; the rest stay due, untouched');
  assert.equal(s.source.objects.size, 20);

  s.source.failures.clear();
  const next = await s.agent.expireEdgeObjects();
  assert.equal(next?.deleted, 20 - headsTried, 'the edge is back: everything due is deleted');
  s.clock.advance(2 * DAY);
  assert.equal((await s.agent.expireEdgeObjects())?.deleted, headsTried, 'and the postponed ones at their recheck');
  assert.equal(s.source.objects.size, 0);
});

test('retention: a DELETE whose answer was lost stays deleting, and a scan that misses the key requests no core deletion', async (t) => {
  const s = setup(t, { deleteFromEdgeAfter: '1d' }, { deletes: 'propagate' });
  s.source.put('edge', 'a.json', 'a');
  await land(s.agent);
  await s.agent.scan();
  // The DELETE reaches the edge, but its answer is lost on the way back.
  const original = s.source.delete.bind(s.source);
  s.source.delete = async (object) => {
    await original(object);
    throw mapS3Error(sdkError.network(), 'edge', 'delete');
  };
  s.clock.advance(2 * DAY);
  const round = await s.agent.expireEdgeObjects();
  assert.equal(round?.stoppedBy?.code, 'TRIB_ERR_EDGE_UNREACHABLE');
  assert.equal(retentionOf(s.journal, 'a.json').edge_retention, 'deleting');
  assert.equal(s.source.objects.size, 0);
  // A complete pass no longer lists the key: that is retention's doing, not a user's.
  await s.agent.scan();
  await s.agent.propagateDeletions();
  assert.ok(s.lake.objects.has('site-a/edge/a.json'), 'the core copy stays');
  s.clock.advance(DAY);
  assert.equal((await s.agent.expireEdgeObjects())?.deleted, 1, 'the next round finds it gone: deleted');
});

test('retention and deletion propagation: a deletion already listed is not carried out once retention deleted the edge copy', async (t) => {
  const s = setup(t, { deleteFromEdgeAfter: '1d' }, { deletes: 'propagate' });
  s.source.put('edge', 'a.json', 'a');
  await land(s.agent);
  // A deletion request for an object still at the edge (a delete and re-put of the same bytes).
  assert.ok(s.agent.journal.requestDeletion('edge', 'a.json', 'event'));
  // The propagation round has listed its requests; while it asks the edge, retention deletes the
  // edge copy (as if from another round or process).
  const row = s.agent.journal.latest('edge', 'a.json')!;
  const originalHead = s.source.head.bind(s.source);
  s.source.head = async (object) => {
    s.source.head = originalHead;
    assert.deepEqual(s.agent.journal.markEdgeDeleting([row.id]), [row.id]);
    s.source.objects.delete('edge/a.json');
    return originalHead(object);
  };
  const round = await s.agent.propagateDeletions();
  assert.deepEqual({ deleted: round.deleted, skipped: round.skipped }, { deleted: 0, skipped: 1 });
  assert.ok(s.lake.objects.has('site-a/edge/a.json'), 'the only copy left is kept');
});

test('retention: the edge object rewritten since it landed (same bytes, later Last-Modified) is kept', async (t) => {
  const s = setup(t, { deleteFromEdgeAfter: '1d' });
  s.source.put('edge', 'a.json', 'a', new Date('2026-11-27T08:00:00Z'));
  await land(s.agent);
  s.source.put('edge', 'a.json', 'a', new Date('2026-11-28T08:00:00Z'));
  s.clock.advance(2 * DAY);
  const round = await s.agent.expireEdgeObjects();
  assert.equal(round?.kept, 1);
  assert.equal(s.source.objects.size, 1);
});
