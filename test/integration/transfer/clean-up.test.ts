/**
 * The clean-up stage alone (src/transfer/clean-up.ts): the journal marks a key suspect, in a
 * commit of its own, before the DELETE of a wrong copy goes out; a failed DELETE leaves the key
 * listed (status shows it); a copy that may or may not be there is deleted only when it carries
 * this very version's lineage.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Journal } from '../../../src/ports/journal.js';
import { META } from '../../../src/land/lineage.js';
import { deleteWrongCopy, deleteWrongCopyIfThere } from '../../../src/transfer/clean-up.js';
import { landingHeaders } from '../../../src/transfer/upload.js';
import { FakeLake, sdkError } from '../../helpers/fakes.js';
import { sha256Hex, stageWorld, type StageWorld } from '../../helpers/transfer-stage.js';

const KEY = 'site-a/edge/cam/7.mp4';
const DATA = Buffer.from('frames of the night shift');
const reset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

/** A core that notes, at each DELETE, whether the journal held the key suspect by then. */
class WitnessLake extends FakeLake {
  journal: Journal | undefined;
  readonly markedAtDelete: boolean[] = [];
  override async delete(key: string) {
    this.markedAtDelete.push(this.journal!.isCoreCopySuspect(key));
    return super.delete(key);
  }
}

function world(t: Parameters<typeof stageWorld>[0]) {
  const lake = new WitnessLake();
  const w = stageWorld(t, { lake });
  lake.journal = w.journal;
  const job = w.journaled('cam/7.mp4', DATA);
  w.journal.claim(10);
  /** A core copy with this version's lineage (or another's) on `bytes`. */
  const copy = (bytes: Buffer, lineage: { etag?: string; sha256?: string } = {}) => {
    const metadata = { ...landingHeaders(w.context, job, sha256Hex(DATA), { content: {}, metadata: {} }).metadata };
    if (lineage.etag !== undefined) metadata[META.sourceEtag] = lineage.etag;
    if (lineage.sha256 !== undefined) metadata[META.sha256] = lineage.sha256;
    lake.objects.set(KEY, { data: bytes, metadata, content: {} });
  };
  return { w, lake, job, copy };
}

const listed = (w: StageWorld) => w.journal.suspectCoreCopies(10);

test('deleteWrongCopy: the key is marked before the DELETE; once deleted it is no longer listed, and the mark stays', async (t) => {
  const { w, lake, job, copy } = world(t);
  copy(Buffer.from('other bytes'));
  await deleteWrongCopy(w.context, job, KEY, undefined);
  assert.deepEqual(lake.markedAtDelete, [true], 'marked (and committed) before the DELETE went out');
  assert.equal(lake.objects.has(KEY), false);
  assert.deepEqual(listed(w), { objects: 0, latest: [] });
  assert.equal(w.journal.isCoreCopySuspect(KEY), true, 'still suspect: reads may lag the DELETE');
});

test('deleteWrongCopy: a failed DELETE is not thrown; the key stays listed with its object and state', async (t) => {
  const { w, lake, job, copy } = world(t);
  copy(Buffer.from('other bytes'));
  lake.failNext('delete', reset);
  await deleteWrongCopy(w.context, job, KEY, undefined);
  assert.deepEqual(lake.calls, ['delete']);
  assert.equal(lake.objects.has(KEY), true);
  assert.deepEqual(listed(w), { objects: 1, latest: [{ bucket: 'edge', key: 'cam/7.mp4', state: 'transferring', coreKey: KEY }] });
  // The next attempt's DELETE goes through: no longer listed.
  await deleteWrongCopy(w.context, job, KEY, undefined);
  assert.deepEqual(listed(w), { objects: 0, latest: [] });
  assert.equal(lake.objects.has(KEY), false);
});

test("deleteWrongCopyIfThere: a copy with this version's lineage is deleted after the mark", async (t) => {
  const { w, lake, job, copy } = world(t);
  copy(Buffer.from('wrong bytes, our lineage'));
  await deleteWrongCopyIfThere(w.context, job, KEY, sha256Hex(DATA), undefined);
  assert.deepEqual(lake.calls, ['head', 'delete']);
  assert.deepEqual(lake.markedAtDelete, [true]);
  assert.equal(lake.objects.has(KEY), false);
  assert.equal(w.journal.isCoreCopySuspect(KEY), true);
  assert.equal(listed(w).objects, 0);
});

test("deleteWrongCopyIfThere: another version's copy (its source ETag or SHA-256) is left alone, and not listed", async (t) => {
  const { w, lake, job, copy } = world(t);
  for (const lineage of [
    { etag: 'e'.repeat(32), sha256: sha256Hex('v1') },
    { etag: job.etag, sha256: sha256Hex('v1') },
    { etag: 'e'.repeat(32) },
  ]) {
    copy(Buffer.from('the previous version, landed'), lineage);
    await deleteWrongCopyIfThere(w.context, job, KEY, sha256Hex(DATA), undefined);
    assert.equal(lake.objects.has(KEY), true, JSON.stringify(lineage));
  }
  assert.deepEqual(lake.calls, ['head', 'head', 'head'], 'no DELETE');
  assert.equal(w.journal.isCoreCopySuspect(KEY), true, 'marked all the same: what is there now is not proven ours');
  assert.equal(listed(w).objects, 0);
});

test('deleteWrongCopyIfThere: nothing there is not listed; a HEAD that fails leaves the key listed', async (t) => {
  const { w, lake, job } = world(t);
  await deleteWrongCopyIfThere(w.context, job, KEY, sha256Hex(DATA), undefined);
  assert.deepEqual(lake.calls, ['head']);
  assert.equal(listed(w).objects, 0);
  lake.failNext('head', sdkError.internal);
  await deleteWrongCopyIfThere(w.context, job, KEY, sha256Hex(DATA), undefined);
  assert.deepEqual(lake.calls, ['head', 'head']);
  assert.deepEqual(listed(w).latest, [{ bucket: 'edge', key: 'cam/7.mp4', state: 'transferring', coreKey: KEY }], 'unknown: stays listed');
});
