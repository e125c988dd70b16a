/**
 * The plan stage alone (src/transfer/plan.ts): the path an object's size calls for, at the edges
 * of the thresholds; the exact Last-Modified of a version an event announced, settled by one edge
 * HEAD and written to the journal; a changed object; a key no core key can be built for.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { TributaryError } from '../../../src/core/errors.js';
import type { SourceHead, SourceObject } from '../../../src/ports/source-store.js';
import { choosePath, effectivePartSize, planTransfer } from '../../../src/transfer/plan.js';
import { FakeSource } from '../../helpers/fakes.js';
import { stageWorld } from '../../helpers/transfer-stage.js';

const MiB = 1024 * 1024;

/** An edge that counts its HEADs: the plan of a version with an exact Last-Modified needs none. */
class CountingSource extends FakeSource {
  heads = 0;
  override async head(object: Pick<SourceObject, 'bucket' | 'key'>): Promise<SourceHead> {
    this.heads += 1;
    return super.head(object);
  }
}

test('choosePath: buffered up to bufferThreshold, streamed up to multipartThreshold, multipart above', () => {
  const settings = { bufferThreshold: 1000, multipartThreshold: 5000 };
  const paths = [0, 1, 999, 1000, 1001, 4999, 5000, 5001, 10 * MiB].map((size) => [size, choosePath(size, settings)]);
  assert.deepEqual(paths, [
    [0, 'buffered'],
    [1, 'buffered'],
    [999, 'buffered'],
    [1000, 'buffered'],
    [1001, 'streamed'],
    [4999, 'streamed'],
    [5000, 'streamed'],
    [5001, 'multipart'],
    [10 * MiB, 'multipart'],
  ]);
  // Equal thresholds: nothing is streamed.
  assert.deepEqual(
    [1000, 1001].map((size) => choosePath(size, { bufferThreshold: 1000, multipartThreshold: 1000 })),
    ['buffered', 'multipart'],
  );
});

test('effectivePartSize: the configured size, or whole MiB enough to stay within 10,000 parts', () => {
  assert.equal(effectivePartSize(100 * MiB, 8 * MiB), 8 * MiB);
  assert.equal(effectivePartSize(10_000 * 8 * MiB, 8 * MiB), 8 * MiB, 'exactly 10,000 parts');
  // 100 GiB at 8 MiB would be 12,800 parts: 10.24 MiB rounds up to 11 MiB.
  const size = 100 * 1024 * MiB;
  const part = effectivePartSize(size, 8 * MiB);
  assert.equal(part, 11 * MiB);
  assert.ok(Math.ceil(size / part) <= 10_000);
  assert.ok(Math.ceil(size / (part - MiB)) > 10_000, 'and no larger than it must be');
});

test('a scanned version: its listing Last-Modified stands, no HEAD, the core key and the path by size', async (t) => {
  const source = new CountingSource();
  const w = stageWorld(t, { source, settings: { keyTemplate: '{site}/{yyyy}/{mm}/{dd}/{bucket}/{key}' } });
  const small = w.journaled('a/small.bin', Buffer.alloc(64 << 10), { mtime: new Date('2026-03-04T05:06:07Z') });
  const medium = w.journaled('a/medium.bin', Buffer.alloc((64 << 10) + 1), { mtime: new Date('2026-03-04T05:06:07Z') });
  const large = w.journaled('a/large.bin', Buffer.alloc((256 << 10) + 1), { mtime: new Date('2026-03-04T05:06:07Z') });
  const plans = await Promise.all([small, medium, large].map((job) => planTransfer(w.context, job, undefined)));
  assert.deepEqual(
    plans.map((p) => [p.coreKey, p.path]),
    [
      ['site-a/2026/03/04/edge/a/small.bin', 'buffered'],
      ['site-a/2026/03/04/edge/a/medium.bin', 'streamed'],
      ['site-a/2026/03/04/edge/a/large.bin', 'multipart'],
    ],
  );
  assert.deepEqual(plans[0]!.job, small, 'the row is handed on as it is');
  assert.equal(source.heads, 0);
});

test("an event's version: one edge HEAD gives the Last-Modified, which the journal row, the job and the core key take", async (t) => {
  const source = new CountingSource();
  const w = stageWorld(t, { source, settings: { keyTemplate: '{site}/{yyyy}/{mm}/{dd}/{bucket}/{key}' } });
  const written = new Date('2026-12-31T23:59:58Z');
  // The event arrives after midnight: its time would put the object under the next day.
  const announced = w.journaled('cam/1.mp4', 'frames', { mtime: written, event: { time: new Date('2027-01-01T00:00:03Z') } });
  assert.equal(announced.mtimeExact, false);
  const plan = await planTransfer(w.context, announced, undefined);
  assert.equal(source.heads, 1);
  assert.equal(plan.coreKey, 'site-a/2026/12/31/edge/cam/1.mp4');
  assert.equal(plan.job.mtimeMs, written.getTime());
  assert.equal(plan.job.mtimeExact, true);
  const row = w.journal.get(announced.id)!;
  assert.deepEqual([row.mtimeMs, row.mtimeExact], [written.getTime(), true], 'the journal row holds the exact time');
});

test('an event whose object changed before the HEAD: TRIB_ERR_SOURCE_CHANGED, and the journal row keeps its provisional time', async (t) => {
  const w = stageWorld(t);
  const eventTime = new Date('2026-11-27T09:00:00Z');
  const announced = w.journaled('pos/r.json', 'first', { event: { time: eventTime } });
  w.source.put('edge', 'pos/r.json', 'second, longer', new Date('2026-11-27T09:00:05Z'));
  await assert.rejects(planTransfer(w.context, announced, undefined), (error: TributaryError) => {
    assert.equal(error.code, 'TRIB_ERR_SOURCE_CHANGED');
    assert.match(error.message, /edge HEAD edge\/pos\/r\.json: the object changed since its event \(ETag [0-9a-f]{32}\)/);
    return true;
  });
  const row = w.journal.get(announced.id)!;
  assert.deepEqual([row.mtimeMs, row.mtimeExact], [eventTime.getTime(), false]);
});

test('an event row of a version a newer row holds (A, B, A): superseded by it, not moved onto it', async (t) => {
  const w = stageWorld(t);
  const written = new Date('2026-11-27T08:00:00Z');
  const a = w.journaled('k.json', 'A', { mtime: written, event: { time: new Date('2026-11-27T08:00:01Z') } });
  w.journaled('k.json', 'B', { mtime: new Date('2026-11-27T08:00:02Z') });
  const again = w.journaled('k.json', 'A', { mtime: written });
  assert.ok(again.id > a.id);
  await assert.rejects(planTransfer(w.context, a, undefined), (error: TributaryError) => {
    assert.equal(error.code, 'TRIB_ERR_SOURCE_CHANGED');
    assert.match(error.message, /a newer sighting of this version is journaled; this row is superseded by it/);
    return true;
  });
  assert.equal(w.journal.get(again.id)!.mtimeMs, written.getTime(), 'the newer row keeps its time');
  assert.equal(w.journal.get(a.id)!.mtimeExact, false);
});

test('a key no core key can be built for: TRIB_ERR_KEY_UNMAPPABLE naming the object', async (t) => {
  const w = stageWorld(t);
  const row = w.journaled('ok.json', 'x');
  // A lone surrogate: not valid Unicode, so no UTF-8 core key can say it.
  const job = { ...row, key: 'bad-\uD800.json' };
  await assert.rejects(planTransfer(w.context, job, undefined), (error: TributaryError) => {
    assert.equal(error.code, 'TRIB_ERR_KEY_UNMAPPABLE');
    assert.match(error.message, /^cannot build a core key for edge\/bad-\uD800\.json: .*not valid Unicode/);
    return true;
  });
});
