/**
 * The confirm stage alone (src/transfer/confirm.ts): a PUT answered with the MD5 sent is landed
 * without a HEAD; one answered with a plain MD5 of other bytes is our wrong copy, deleted with its
 * key marked suspect; an opaque answer is settled by HEAD. A HEAD that shows a short copy is
 * asked again, and a copy that stays wrong is deleted when it carries our lineage, never when it
 * is someone else's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { TributaryError } from '../../../src/core/errors.js';
import type { LakeHead } from '../../../src/ports/lake-store.js';
import { confirmLanded, confirmPut, type LandingPatience } from '../../../src/transfer/confirm.js';
import { landingHeaders } from '../../../src/transfer/upload.js';
import { FakeLake } from '../../helpers/fakes.js';
import { md5Hex, sha256Hex, stageWorld, type StageWorld } from '../../helpers/transfer-stage.js';

const KEY = 'site-a/edge/pos/r.json';
const DATA = Buffer.from('a receipt of forty bytes, give or take..');
const QUICK: LandingPatience = { heads: 4, firstWaitMs: 1 };

/** A core whose HEADs show an object short (as a server that acknowledges a PUT early) the first `short` times. */
class LaggingLake extends FakeLake {
  short = 0;
  override async head(key: string): Promise<LakeHead | undefined> {
    const head = await super.head(key);
    if (head === undefined || this.short <= 0) return head;
    this.short -= 1;
    return { ...head, size: Math.floor(head.size / 2), etag: 'in-progress', etagFromMd5: false };
  }
}

/** The job, and a core copy written as our upload would write it: `bytes` under our lineage. */
async function uploaded(w: StageWorld, bytes: Buffer = DATA) {
  const job = w.journaled('pos/r.json', DATA);
  w.journal.claim(10);
  const landing = landingHeaders(w.context, job, sha256Hex(DATA), { content: {}, metadata: {} });
  const put = await w.lake.put(KEY, bytes, { metadata: landing.metadata });
  w.lake.calls.length = 0;
  return { job, put };
}

function assertSuspect(w: StageWorld, listed: boolean): void {
  assert.equal(w.journal.isCoreCopySuspect(KEY), true, 'the key is marked suspect');
  assert.deepEqual(
    w.journal.suspectCoreCopies(10).latest.map((s) => s.coreKey),
    listed ? [KEY] : [],
    listed ? 'listed: the wrong copy may still be there' : 'not listed: the wrong copy is gone',
  );
}

test('confirmPut: an answer whose ETag is the MD5 sent is the landing; no HEAD', async (t) => {
  const w = stageWorld(t);
  const { job, put } = await uploaded(w);
  const result = await confirmPut(w.context, job, KEY, { ...put, etag: put.etag.toUpperCase() }, md5Hex(DATA), sha256Hex(DATA), undefined);
  assert.deepEqual(result, {
    coreKey: KEY,
    sha256: sha256Hex(DATA),
    coreEtag: md5Hex(DATA).toUpperCase(),
    coreSize: DATA.length,
    alreadyPresent: false,
  });
  assert.deepEqual(w.lake.calls, []);
  assert.equal(w.journal.isCoreCopySuspect(KEY), false);
});

test('confirmPut: a plain ETag of other bytes deletes our copy, marks its key, and is a TRIB_ERR_LAND_MISMATCH', async (t) => {
  const w = stageWorld(t);
  const wrong = Buffer.from(DATA);
  wrong[3]! ^= 1;
  const { job, put } = await uploaded(w, wrong);
  await assert.rejects(confirmPut(w.context, job, KEY, put, md5Hex(DATA), sha256Hex(DATA), undefined), (error: TributaryError) => {
    assert.equal(error.code, 'TRIB_ERR_LAND_MISMATCH');
    assert.equal(error.message, `core PUT ${KEY}: the core computed MD5 ${md5Hex(wrong)} for what it received, expected ${md5Hex(DATA)}`);
    return true;
  });
  assert.deepEqual(w.lake.calls, ['delete']);
  assert.equal(w.lake.objects.has(KEY), false);
  assertSuspect(w, false);
});

test("confirmPut: an opaque ETag (SSE-KMS) is settled by a HEAD, whose ETag is the landing's", async (t) => {
  const w = stageWorld(t);
  const { job } = await uploaded(w);
  w.lake.etags.set(KEY, 'kms-7f3a');
  const result = await confirmPut(
    w.context,
    job,
    KEY,
    { etag: 'kms-put-answer', etagFromMd5: false },
    md5Hex(DATA),
    sha256Hex(DATA),
    undefined,
  );
  assert.deepEqual(result, { coreKey: KEY, sha256: sha256Hex(DATA), coreEtag: 'kms-7f3a', coreSize: DATA.length, alreadyPresent: false });
  assert.deepEqual(w.lake.calls, ['head']);
});

test('confirmPut: checkSent sees the lower-cased answer first; its error deletes the copy before anything counts', async (t) => {
  const w = stageWorld(t);
  const { job, put } = await uploaded(w);
  const seen: (string | undefined)[] = [];
  const refusal = new TributaryError('TRIB_ERR_SOURCE_CORRUPT', 'two reads differ');
  const checkSent = (etag: string | undefined) => {
    seen.push(etag);
    return refusal;
  };
  const answer = { ...put, etag: put.etag.toUpperCase() };
  await assert.rejects(confirmPut(w.context, job, KEY, answer, md5Hex(DATA), sha256Hex(DATA), undefined, checkSent), (e) => e === refusal);
  assert.deepEqual(seen, [md5Hex(DATA)]);
  assert.deepEqual(w.lake.calls, ['delete']);
  assertSuspect(w, false);
});

test('confirmLanded: a copy that shows short at first is asked again until it is whole', async (t) => {
  const lake = new LaggingLake();
  const w = stageWorld(t, { lake });
  const { job } = await uploaded(w);
  lake.short = 2;
  const confirmed = await confirmLanded(w.context, job, KEY, sha256Hex(DATA), undefined, undefined, QUICK);
  assert.deepEqual(confirmed, { etag: md5Hex(DATA) });
  assert.deepEqual(w.lake.calls, ['head', 'head', 'head']);
  assert.equal(w.journal.isCoreCopySuspect(KEY), false);
});

test('confirmLanded: a copy that stays short fails after every HEAD, and our wrong copy is deleted', async (t) => {
  const lake = new LaggingLake();
  const w = stageWorld(t, { lake });
  const { job } = await uploaded(w);
  lake.short = 100;
  await assert.rejects(confirmLanded(w.context, job, KEY, sha256Hex(DATA), undefined, undefined, QUICK), (error: TributaryError) => {
    assert.equal(error.code, 'TRIB_ERR_LAND_MISMATCH');
    assert.equal(
      error.message,
      `core ${KEY}: holds 20 bytes with sha256 ${sha256Hex(DATA)} and ETag in-progress, expected 40 bytes with sha256 ${sha256Hex(DATA)}`,
    );
    return true;
  });
  assert.deepEqual(w.lake.calls, ['head', 'head', 'head', 'head', 'delete']);
  assert.equal(w.lake.objects.has(KEY), false);
  assertSuspect(w, false);
});

test('confirmLanded: an MD5 ETag of other bytes fails at the first HEAD; a failed DELETE leaves the key listed', async (t) => {
  const w = stageWorld(t);
  const wrong = Buffer.from(DATA);
  wrong[0]! ^= 1;
  const { job } = await uploaded(w, wrong);
  w.lake.failNext('delete', () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
  await assert.rejects(confirmLanded(w.context, job, KEY, sha256Hex(DATA), md5Hex(DATA), undefined, QUICK), {
    code: 'TRIB_ERR_LAND_MISMATCH',
    message: `core ${KEY}: holds 40 bytes with sha256 ${sha256Hex(DATA)} and ETag ${md5Hex(wrong)}, expected 40 bytes with sha256 ${sha256Hex(DATA)} and MD5 ${md5Hex(DATA)}`,
  });
  assert.deepEqual(w.lake.calls, ['head', 'delete']);
  assert.equal(w.lake.objects.has(KEY), true, 'the DELETE failed');
  assertSuspect(w, true);
});

test("confirmLanded: a copy without our SHA-256 (another version's) fails the landing but is not ours to delete", async (t) => {
  const w = stageWorld(t);
  const { job } = await uploaded(w);
  const other = w.lake.objects.get(KEY)!;
  w.lake.objects.set(KEY, {
    ...other,
    data: Buffer.concat([DATA, DATA]),
    metadata: { ...other.metadata, 'tributary-sha256': sha256Hex('v1') },
  });
  await assert.rejects(confirmLanded(w.context, job, KEY, sha256Hex(DATA), undefined, undefined, QUICK), {
    code: 'TRIB_ERR_LAND_MISMATCH',
  });
  assert.deepEqual(w.lake.calls, ['head'], 'larger than ours: no point asking again');
  assert.equal(w.lake.objects.has(KEY), true);
  assert.equal(w.journal.isCoreCopySuspect(KEY), false);
});

test('confirmLanded: nothing at the key after every HEAD is "not found after upload", and nothing is deleted', async (t) => {
  const w = stageWorld(t);
  const { job } = await uploaded(w);
  w.lake.objects.delete(KEY);
  await assert.rejects(confirmLanded(w.context, job, KEY, sha256Hex(DATA), md5Hex(DATA), undefined, QUICK), {
    code: 'TRIB_ERR_LAND_MISMATCH',
    message: `core ${KEY}: not found after upload`,
  });
  assert.deepEqual(w.lake.calls, ['head', 'head', 'head', 'head']);
  assert.equal(w.journal.isCoreCopySuspect(KEY), false);
});
