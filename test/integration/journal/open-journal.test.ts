import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { openJournal } from '../../../src/journal/open-journal.js';
import type { SourceObject } from '../../../src/ports/source-store.js';
import { FakeClock } from '../../helpers/fakes.js';
import { readJournal } from '../../helpers/journal-db.js';
import { tempDir } from '../../helpers/temp-dir.js';

const normal = () => ({ priority: 2, excluded: false });
const object = (key: string, etag = 'e1', size = 10, mtime = new Date('2026-11-27T00:00:00Z')): SourceObject => ({
  bucket: 'b',
  key,
  etag,
  size,
  mtime,
});

function open(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t);
  const clock = new FakeClock();
  const journal = openJournal(join(dir, 'j'), clock);
  t.after(() => journal.close());
  return { journal, clock, dir: join(dir, 'j') };
}

test('recordSeen tells new, unchanged and changed versions apart, and supersedes pending older ones', (t) => {
  const { journal } = open(t);
  assert.deepEqual(journal.recordSeen([object('a'), object('b')], normal, 'scan'), ['new', 'new']);
  assert.deepEqual(journal.recordSeen([object('a'), object('b')], normal, 'scan'), ['unchanged', 'unchanged']);
  assert.deepEqual(journal.recordSeen([object('a', 'e2', 11)], normal, 'scan'), ['changed']);
  assert.equal(journal.latest('b', 'a')?.etag, 'e2');
  assert.equal(journal.latest('b', 'a')?.state, 'queued');
  assert.equal(
    journal.backlog().reduce((n, r) => n + r.objects, 0),
    2,
    'the older version of a is superseded',
  );
});

test('migrations are applied once and the schema is versioned', (t) => {
  const { journal, dir } = open(t);
  journal.close();
  const again = openJournal(dir, new FakeClock());
  again.close();
  const names = readJournal(dir, (db) => db.prepare('SELECT name FROM schema_migrations').all() as { name: string }[]);
  assert.deepEqual(
    names.map((n) => n.name),
    [
      '0001_initial.sql',
      '0002_event_mtime.sql',
      '0003_manifests.sql',
      '0004_deletions.sql',
      '0005_edge_retention.sql',
      '0006_edge_retention_states.sql',
      '0007_edge_retention_by_id.sql',
      '0008_multipart_part_md5s.sql',
      '0009_landed_index.sql',
      '0010_suspect_core_copy.sql',
      '0011_suspect_core_copy_index.sql',
      '0012_suspect_core_copies.sql',
      '0013_adoption.sql',
      '0014_vanished_forgotten_relandings.sql',
      '0015_adoption_manifests.sql',
    ],
  );
});

test('only one version of a key is in flight: a newer version waits for the older transfer to finish', (t) => {
  const { journal } = open(t);
  journal.recordSeen([object('a')], normal, 'scan');
  const [first] = journal.claim(10);
  assert.equal(first?.etag, 'e1');
  journal.recordSeen([object('a', 'e2', 12)], normal, 'scan');
  assert.deepEqual(journal.claim(10), [], 'e2 must not start while e1 is transferring');
  journal.markLanded(first.id, { coreKey: 's/b/a', sha256: 'x', coreEtag: null, coreSize: 10 });
  const [second] = journal.claim(10);
  assert.equal(second?.etag, 'e2');
});

test('claim order: priority classes, ageing lifts long-waiting bulk objects', (t) => {
  const { journal, clock } = open(t);
  journal.recordSeen([object('bulk-old')], () => ({ priority: 3, excluded: false }), 'scan');
  clock.advance(31 * 60_000);
  journal.recordSeen([object('critical-new')], () => ({ priority: 0, excluded: false }), 'scan');
  journal.recordSeen([object('normal-new')], () => ({ priority: 2, excluded: false }), 'scan');
  const keys = journal.claim(3).map((o) => o.key);
  assert.deepEqual(keys, ['bulk-old', 'critical-new', 'normal-new']);
});

test('failure columns are persisted: attempts, error code and message, next attempt', (t) => {
  const { journal, clock } = open(t);
  journal.recordSeen([object('a')], normal, 'scan');
  const [job] = journal.claim(1);
  journal.markFailed(job!.id, {
    code: 'TRIB_ERR_CORE_SERVER',
    message: 'boom'.repeat(1000),
    outcome: 'retry',
    consumeAttempt: true,
    nextAttemptAt: clock.now() + 5000,
  });
  const row = journal.get(job!.id)!;
  assert.equal(row.state, 'failed');
  assert.equal(row.attempts, 1);
  assert.equal(row.lastErrorCode, 'TRIB_ERR_CORE_SERVER');
  assert.equal(row.lastError?.length, 2000, 'error text is truncated');
  assert.deepEqual(journal.claim(1), [], 'not runnable before next_attempt_at');
  clock.advance(5000);
  assert.equal(journal.claim(1).length, 1);
});

test('recoverInFlight returns objects a crash left transferring to the queue, keeping multipart progress', (t) => {
  const { journal } = open(t);
  journal.recordSeen([object('a', 'e1', 100 * 1024 * 1024)], normal, 'scan');
  const [job] = journal.claim(1);
  journal.startMultipart(job!.id, { uploadId: 'u1', coreKey: 's/b/a', partSize: 5 * 1024 * 1024, sha256: 'abc' });
  journal.recordPart(job!.id, 1, 'etag-1', 5 * 1024 * 1024);
  journal.recordPart(job!.id, 2, 'etag-2', 5 * 1024 * 1024);
  assert.equal(journal.recoverInFlight(), 1);
  assert.equal(journal.get(job!.id)?.state, 'queued');
  const progress = journal.multipart(job!.id)!;
  assert.equal(progress.uploadId, 'u1');
  assert.deepEqual([...progress.parts.keys()], [1, 2]);
  journal.markLanded(job!.id, { coreKey: 's/b/a', sha256: 'abc', coreEtag: null, coreSize: 1 });
  assert.equal(journal.multipart(job!.id), undefined, 'landing forgets the multipart progress');
});

test('memory does not grow with the object count: 200,000 rows live on disk', (t) => {
  // A heap figure means something only right after a full collection, and gc() exists only
  // under --expose-gc: the measurement runs in a child process started with it.
  const journalModule = pathToFileURL(fileURLToPath(new URL('../../../src/journal/open-journal.ts', import.meta.url))).href;
  const script = `
    if (typeof globalThis.gc !== 'function') throw new Error('gc() is missing: run with --expose-gc');
    const { openJournal } = await import(${JSON.stringify(journalModule)});
    const journal = openJournal(${JSON.stringify(join(tempDir(t), 'j'))}, { now: () => 1_800_000_000_000 });
    const normal = () => ({ priority: 2, excluded: false });
    const mtime = new Date('2026-11-27T00:00:00Z');
    globalThis.gc();
    const before = process.memoryUsage().heapUsed;
    for (let page = 0; page < 200; page += 1) {
      const objects = Array.from({ length: 1000 }, (_, i) => ({ bucket: 'b', key: 'k/' + page + '/' + i, etag: 'e1', size: 10, mtime }));
      journal.recordSeen(objects, normal, 'scan');
    }
    globalThis.gc();
    const grown = process.memoryUsage().heapUsed - before;
    const objects = journal.backlog().reduce((n, r) => n + r.objects, 0);
    journal.close();
    console.log(JSON.stringify({ objects, grown }));`;
  const output = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  const { objects, grown } = JSON.parse(output.trim()) as { objects: number; grown: number };
  t.diagnostic(`heap grew by ${(grown / 1024 / 1024).toFixed(2)} MiB over 200,000 rows`);
  assert.equal(objects, 200_000);
  // 200,000 rows held in memory would take tens of MiB (a JS object per row); on disk, nothing.
  assert.ok(grown < 8 * 1024 * 1024, `heap grew by ${(grown / 1024 / 1024).toFixed(1)} MiB`);
});

test("an event's provisional mtime and a listing of the same version are one version", (t) => {
  const { journal } = open(t);
  const event = { ...object('a', 'e1', 10, new Date('2026-11-27T10:00:00.500Z')), mtimeExact: false };
  assert.deepEqual(journal.recordSeen([event], normal, 'event'), ['new']);
  assert.equal(journal.latest('b', 'a')?.mtimeExact, false);
  // The scan lists the real Last-Modified: same version, the mtime becomes exact.
  assert.deepEqual(journal.recordSeen([object('a', 'e1', 10, new Date('2026-11-27T10:00:00.000Z'))], normal, 'scan'), ['unchanged']);
  assert.equal(journal.latest('b', 'a')?.mtimeExact, true);
  assert.equal(journal.latest('b', 'a')?.mtimeMs, Date.parse('2026-11-27T10:00:00.000Z'));
  // A late duplicate event changes nothing either.
  assert.deepEqual(journal.recordSeen([event], normal, 'event'), ['unchanged']);
  assert.equal(
    journal.backlog().reduce((n, r) => n + r.objects, 0),
    1,
  );
});

test('a version seen again after another one (A, B, A within one second) is current again and queued, not taken for the old row', (t) => {
  const { journal } = open(t);
  const a = object('state.json', 'etag-a', 2);
  const b = object('state.json', 'etag-b', 3);
  journal.recordSeen([a], normal, 'scan');
  const [first] = journal.claim(1);
  journal.markLanded(first!.id, { coreKey: 's/b/state.json', sha256: 'a'.repeat(64), coreEtag: 'etag-a', coreSize: 2 });
  journal.flush();
  assert.deepEqual(journal.recordSeen([b], normal, 'scan'), ['changed']);
  assert.deepEqual(journal.recordSeen([a], normal, 'scan'), ['changed'], 'A is back: a new version to replicate');
  const latest = journal.latest('b', 'state.json')!;
  assert.equal(latest.etag, 'etag-a');
  assert.equal(latest.state, 'queued');
  assert.equal(latest.mtimeMs, a.mtime.getTime());
  assert.equal(journal.get(first!.id)!.mtimeMs, a.mtime.getTime() - 1, 'the old row is moved aside by a millisecond');
  assert.equal(journal.get(first!.id)!.state, 'done');
  assert.equal(journal.latest('b', 'state.json')!.id > first!.id, true);
  // The same listing again changes nothing; a fourth and fifth flip still work.
  assert.deepEqual(journal.recordSeen([a], normal, 'scan'), ['unchanged']);
  assert.deepEqual(journal.recordSeen([b], normal, 'scan'), ['changed']);
  assert.deepEqual(journal.recordSeen([a], normal, 'scan'), ['changed']);
  assert.equal(journal.latest('b', 'state.json')!.etag, 'etag-a');
});

test('an event-time row getting its exact Last-Modified does not collide with an older row of that version', (t) => {
  const { journal } = open(t);
  const a = object('s.json', 'etag-a', 2);
  journal.recordSeen([a], normal, 'scan');
  journal.recordSeen([object('s.json', 'etag-b', 3)], normal, 'scan');
  // A again, announced by an event: the event's time stands in for Last-Modified.
  journal.recordSeen([{ ...a, mtime: new Date(a.mtime.getTime() + 500), mtimeExact: false }], normal, 'event');
  const announced = journal.latest('b', 's.json')!;
  assert.deepEqual(journal.recordSeen([a], normal, 'scan'), ['unchanged'], 'the listing tells the exact time of the same version');
  assert.equal(journal.get(announced.id)!.mtimeMs, a.mtime.getTime());
  // And through the transfer's HEAD.
  journal.recordSeen([object('s.json', 'etag-b', 3, new Date(a.mtime.getTime() + 2000))], normal, 'scan');
  journal.recordSeen([{ ...a, mtime: new Date(a.mtime.getTime() + 3000), mtimeExact: false }], normal, 'event');
  const again = journal.latest('b', 's.json')!;
  journal.setExactMtime(again.id, a.mtime.getTime());
  assert.equal(journal.get(again.id)!.mtimeMs, a.mtime.getTime());
});

test('an older version listed again after a newer one is current again (a rollback on a versioned edge)', (t) => {
  const { journal } = open(t);
  const a = object('state.json', 'etag-a', 2, new Date('2026-11-27T08:00:00.000Z'));
  journal.recordSeen([a], normal, 'scan');
  const [first] = journal.claim(1);
  journal.markLanded(first!.id, { coreKey: 's/b/state.json', sha256: 'a'.repeat(64), coreEtag: 'etag-a', coreSize: 2 });
  journal.flush();
  const b = object('state.json', 'etag-b', 3, new Date('2026-11-27T09:00:00.000Z'));
  assert.deepEqual(journal.recordSeen([b], normal, 'scan'), ['changed']);
  // B's version is deleted at the edge: A, with its older Last-Modified, is what the edge serves.
  assert.deepEqual(journal.recordSeen([a], normal, 'scan'), ['changed']);
  assert.equal(journal.latest('b', 'state.json')!.etag, 'etag-a');
  assert.equal(journal.latest('b', 'state.json')!.state, 'queued');
  // Had the listing only been stale, A's conditional GET fails and the refresh journals B again.
  assert.deepEqual(journal.recordSeen([b], normal, 'scan'), ['changed']);
  assert.equal(journal.latest('b', 'state.json')!.etag, 'etag-b');
  assert.equal(journal.latest('b', 'state.json')!.state, 'queued');
});

test('an event row whose version a newer row holds (A, B, A listed while it was in flight) is not given its Last-Modified', (t) => {
  const { journal } = open(t);
  const at = new Date('2026-11-27T08:00:00.000Z');
  journal.recordSeen([{ ...object('k', 'etag-a', 1, new Date(at.getTime() + 700)), mtimeExact: false }], normal, 'event');
  const [inFlight] = journal.claim(1);
  journal.recordSeen([object('k', 'etag-b', 1, at)], normal, 'scan');
  journal.recordSeen([object('k', 'etag-a', 1, at)], normal, 'scan');
  const current = journal.latest('b', 'k')!;
  assert.equal(current.etag, 'etag-a');
  assert.equal(journal.setExactMtime(inFlight!.id, at.getTime()), false);
  assert.equal(journal.get(current.id)!.mtimeMs, at.getTime(), 'the current row keeps its Last-Modified');
  assert.equal(journal.get(inFlight!.id)!.mtimeMs, at.getTime() + 700);
  assert.equal(journal.latest('b', 'k')!.id, current.id);
});

test('an object queued again because its core copy went missing no longer counts as landed', (t) => {
  const { journal, clock } = open(t);
  const start = clock.now();
  journal.recordSeen([object('k', 'e1', 1000)], normal, 'scan');
  const [job] = journal.claim(1);
  clock.advance(1000);
  journal.markLanded(job!.id, { coreKey: 's/b/k', sha256: '0'.repeat(64), coreEtag: 'e1', coreSize: 1000 });
  assert.equal(journal.landedSince(start).objects, 1);
  journal.requeueMissing(job!.id, 'TRIB_ERR_CORE_COPY_MISSING', 'core copy s/b/k is missing');
  assert.equal(journal.get(job!.id)!.state, 'queued');
  assert.equal(journal.landedSince(start).objects, 0);
});

test('landedSince: count, bytes and lag percentiles of what landed in a window', (t) => {
  const { journal, clock } = open(t);
  const start = clock.now();
  // 100 objects seen at `start`, landed one second apart: lags 1 s to 100 s.
  journal.recordSeen(
    Array.from({ length: 100 }, (_, i) => object(`k${i}`, `e${i}`, 1000)),
    normal,
    'scan',
  );
  const jobs = journal.claim(100);
  for (const job of jobs) {
    clock.advance(1000);
    journal.markLanded(job.id, { coreKey: `s/b/${job.key}`, sha256: '0'.repeat(64), coreEtag: job.etag, coreSize: 1000 });
  }
  const all = journal.landedSince(start);
  assert.deepEqual(all, { objects: 100, bytes: 100_000, lagP50Ms: 51_000, lagP99Ms: 100_000, lagMaxMs: 100_000 });
  const last10s = journal.landedSince(clock.now() - 10_000);
  assert.equal(last10s.objects, 11);
  assert.equal(last10s.lagP50Ms, 95_000);
  assert.deepEqual(journal.landedSince(clock.now() + 1), { objects: 0, bytes: 0, lagP50Ms: null, lagP99Ms: null, lagMaxMs: null });
});

test("endpoint health: each side's last record survives a reopen (status reads it from another process)", (t) => {
  const { journal, clock, dir } = open(t);
  assert.equal(journal.endpointHealth('edge'), undefined, 'nothing before an agent recorded it');
  const down = {
    reachable: false,
    since: clock.now() - 5000,
    reason: 'refused' as const,
    detail: 'connect ECONNREFUSED 127.0.0.1:9000',
    checkedAt: clock.now(),
  };
  journal.recordEndpointHealth('edge', down);
  journal.recordEndpointHealth('core', { reachable: true, since: 1, reason: undefined, detail: undefined, checkedAt: 2 });
  journal.close();
  const again = openJournal(dir, clock);
  t.after(() => again.close());
  assert.deepEqual(again.endpointHealth('edge'), down);
  assert.deepEqual(again.endpointHealth('core'), { reachable: true, since: 1, reason: undefined, detail: undefined, checkedAt: 2 });
});
