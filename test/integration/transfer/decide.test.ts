/**
 * The decide stage alone (src/transfer/decide.ts): whether to look in the core before an upload,
 * for each transfer.headBeforePut mode and the history of the row; whether a copy at a suspect
 * key may stand for a version; when a copy found in the core is this version's landing; and
 * which MD5 the core is asked to check.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ObjectHeaders } from '../../../src/core/object-headers.js';
import type { JournalObject } from '../../../src/ports/journal.js';
import type { SourceRead } from '../../../src/ports/source-store.js';
import { alreadyInCore, shouldHead, trustsCoreCopy, wantMd5 } from '../../../src/transfer/decide.js';
import { landingHeaders } from '../../../src/transfer/upload.js';
import { md5Hex, sha256Hex, stageWorld, type StageWorld } from '../../helpers/transfer-stage.js';

const EDGE_HEADERS: ObjectHeaders = { content: { 'content-type': 'application/json' }, metadata: { line: '7' } };

/** Each mode against each history a row can have: [what, row, always, auto, never]. */
function histories(w: StageWorld): [string, JournalObject, boolean, boolean, boolean][] {
  const fresh = w.journaled('fresh.json', 'f');

  const failed = w.journaled('failed.json', 'f');
  w.journal.claim(10);
  w.journal.markFailed(failed.id, {
    code: 'TRIB_ERR_CORE_SERVER',
    message: '500',
    outcome: 'retry',
    consumeAttempt: true,
    nextAttemptAt: 0,
  });

  const deferred = w.journaled('deferred.json', 'd');
  w.journal.claim(10);
  w.journal.release(deferred.id, { code: 'TRIB_ERR_CORE_UNREACHABLE', message: 'connect ECONNREFUSED' });

  // `tributary retry` gives a dead object fresh attempts; its last error stays.
  const retried = w.journaled('retried.json', 'r');
  w.journal.claim(10);
  w.journal.markFailed(retried.id, {
    code: 'TRIB_ERR_CORE_SERVER',
    message: '500',
    outcome: 'dead',
    consumeAttempt: true,
    nextAttemptAt: 0,
  });
  w.journal.retryDead();

  // Its core copy went missing: it lands again, and the core may hold it after all.
  const relanding = w.journaled('relanding.json', 'l');
  w.journal.claim(10);
  w.journal.markLanded(relanding.id, { coreKey: 'site-a/edge/relanding.json', sha256: sha256Hex('l'), coreEtag: md5Hex('l'), coreSize: 1 });
  w.journal.flush();
  w.journal.requeueMissing(relanding.id, 'TRIB_ERR_CORE_COPY_MISSING', 'gone');

  const rows = ['fresh', 'failed', 'deferred', 'retried', 'relanding'].map((name) => w.journal.latest('edge', `${name}.json`)!);
  assert.deepEqual(
    rows.map((r) => [r.attempts, r.deferrals, r.lastErrorCode, r.landingReason]),
    [
      [0, 0, null, null],
      [1, 0, 'TRIB_ERR_CORE_SERVER', null],
      [0, 1, 'TRIB_ERR_CORE_UNREACHABLE', null],
      [0, 0, 'TRIB_ERR_CORE_SERVER', null],
      [0, 0, 'TRIB_ERR_CORE_COPY_MISSING', 'core-copy-missing'],
    ],
    'the histories are what their names say',
  );
  assert.equal(fresh.id, rows[0]!.id);
  return [
    ['a first attempt', rows[0]!, true, false, false],
    ['after a failed attempt', rows[1]!, true, true, false],
    ['after a deferral (endpoint down)', rows[2]!, true, true, false],
    ['dead, then retried', rows[3]!, true, true, false],
    ['landing again', rows[4]!, true, true, false],
  ];
}

test('shouldHead: always, never, and auto only for rows an earlier attempt or a re-landing may have put in the core', (t) => {
  const w = stageWorld(t);
  for (const [what, row, always, auto, never] of histories(w)) {
    assert.equal(shouldHead({ headBeforePut: 'always' }, row), always, `always, ${what}`);
    assert.equal(shouldHead({ headBeforePut: 'auto' }, row), auto, `auto, ${what}`);
    assert.equal(shouldHead({ headBeforePut: 'never' }, row), never, `never, ${what}`);
  }
  // Each field of the history alone is reason enough under auto.
  const fresh = w.journal.latest('edge', 'fresh.json')!;
  const alone: Partial<JournalObject>[] = [
    { attempts: 1 },
    { deferrals: 1 },
    { lastErrorCode: 'TRIB_ERR_CORE_SERVER' },
    { landingReason: 'repair' },
  ];
  for (const change of alone) assert.equal(shouldHead({ headBeforePut: 'auto' }, { ...fresh, ...change }), true, JSON.stringify(change));
});

test('trustsCoreCopy: not at a key marked suspect, until a version lands there; other keys are not affected', (t) => {
  const w = stageWorld(t);
  const job = w.journaled('x.bin', 'x');
  const key = 'site-a/edge/x.bin';
  assert.equal(trustsCoreCopy(w.context, key), true);
  w.journal.markCoreCopySuspect(job, key);
  assert.equal(trustsCoreCopy(w.context, key), false);
  assert.equal(trustsCoreCopy(w.context, 'site-a/edge/y.bin'), true);
  // A DELETE of the wrong copy does not lift the mark (reads may lag); a landing does.
  w.journal.markSuspectCopyDeleted(key);
  assert.equal(trustsCoreCopy(w.context, key), false);
  w.journal.claim(10);
  w.journal.markLanded(job.id, { coreKey: key, sha256: sha256Hex('x'), coreEtag: md5Hex('x'), coreSize: 1 });
  w.journal.flush();
  assert.equal(trustsCoreCopy(w.context, key), true);
});

/** A row that has failed once (so auto looks), the landing it would carry, and the core copy of it. */
function retriedWithCopy(w: StageWorld, data: string) {
  const first = w.journaled('pos/r.json', data, { headers: EDGE_HEADERS });
  w.journal.claim(10);
  w.journal.markFailed(first.id, {
    code: 'TRIB_ERR_CORE_SERVER',
    message: '500',
    outcome: 'retry',
    consumeAttempt: true,
    nextAttemptAt: 0,
  });
  const job = w.journal.get(first.id)!;
  const coreKey = 'site-a/edge/pos/r.json';
  const landing = landingHeaders(w.context, job, sha256Hex(data), EDGE_HEADERS);
  const putCopy = (bytes: string, headers: ObjectHeaders = landing) =>
    w.lake.objects.set(coreKey, { data: Buffer.from(bytes), metadata: { ...headers.metadata }, content: { ...headers.content } });
  return { job, coreKey, landing, putCopy };
}

test('alreadyInCore: a copy with our SHA-256, size, MD5 and headers is the landing, and nothing is sent', async (t) => {
  const w = stageWorld(t);
  const { job, coreKey, landing, putCopy } = retriedWithCopy(w, 'receipt');
  putCopy('receipt');
  const found = await alreadyInCore(w.context, job, coreKey, sha256Hex('receipt'), md5Hex('receipt'), landing, undefined);
  assert.deepEqual(found, { coreKey, sha256: sha256Hex('receipt'), coreEtag: md5Hex('receipt'), coreSize: 7, alreadyPresent: true });
  assert.deepEqual(w.lake.calls, ['head']);
});

test('alreadyInCore: no landing when the copy differs in size, MD5 ETag or headers, or is missing', async (t) => {
  const w = stageWorld(t);
  const { job, coreKey, landing, putCopy } = retriedWithCopy(w, 'receipt');
  const sha = sha256Hex('receipt');
  const look = () => alreadyInCore(w.context, job, coreKey, sha, md5Hex('receipt'), landing, undefined);

  assert.equal(await look(), undefined, 'no copy');

  putCopy('receipt!');
  assert.equal(await look(), undefined, 'another size (our SHA-256 in its metadata proves nothing alone)');

  putCopy('RECEIPT');
  assert.equal(await look(), undefined, 'same size, an MD5 ETag of other bytes');

  putCopy('receipt');
  w.lake.etags.set(coreKey, `${md5Hex('receipt')}-2`);
  assert.notEqual(await look(), undefined, 'a multipart ETag says nothing against it');
  w.lake.etags.delete(coreKey);

  putCopy('receipt', { ...landing, content: { 'content-type': 'text/plain' } });
  assert.equal(await look(), undefined, 'another Content-Type');
  putCopy('receipt', { ...landing, metadata: { ...landing.metadata, line: '8' } });
  assert.equal(await look(), undefined, 'other user metadata');

  putCopy('receipt', { ...landing, metadata: { ...landing.metadata, 'tributary-sha256': sha256Hex('other') } });
  assert.equal(await look(), undefined, "another version's SHA-256");

  assert.equal(w.lake.calls.filter((c) => c === 'head').length, 7, 'each look is one HEAD');
  assert.equal(w.lake.calls.length, 7);
});

test('alreadyInCore: no HEAD at all for a first attempt under auto, nor at a suspect key', async (t) => {
  const w = stageWorld(t);
  const { job, coreKey, landing, putCopy } = retriedWithCopy(w, 'receipt');
  putCopy('receipt');
  const sha = sha256Hex('receipt');
  const fresh = { ...job, attempts: 0, lastErrorCode: null };
  assert.equal(await alreadyInCore(w.context, fresh, coreKey, sha, md5Hex('receipt'), landing, undefined), undefined);
  const always = { ...w.context, headBeforePut: 'always' as const };
  assert.notEqual(await alreadyInCore(always, fresh, coreKey, sha, md5Hex('receipt'), landing, undefined), undefined, 'always looks');
  assert.deepEqual(w.lake.calls, ['head']);

  w.journal.markCoreCopySuspect(job, coreKey);
  assert.equal(await alreadyInCore(always, job, coreKey, sha, md5Hex('receipt'), landing, undefined), undefined);
  assert.deepEqual(w.lake.calls, ['head'], 'a copy at a suspect key is not even looked at');
});

test("wantMd5: the core checks the edge's plain ETag; the MD5 is computed only when that ETag says nothing", (t) => {
  const w = stageWorld(t);
  const plainEtag = w.journaled('plain.bin', 'p');
  /** Whether the MD5 is computed for `job`, given an edge answer that says its ETag is (or is not) an MD5. */
  const computes = (job: JournalObject, etagFromMd5: boolean) => {
    const wanted = wantMd5(job);
    return typeof wanted === 'function' ? wanted({ etagFromMd5 } as SourceRead) : wanted;
  };
  assert.equal(computes(plainEtag, true), false, 'a plain MD5 ETag: sent as Content-MD5, nothing to compute');
  assert.equal(computes(plainEtag, false), true, 'the edge says SSE-KMS or SSE-C: its ETag is no MD5');
  assert.equal(computes({ ...plainEtag, etag: `${md5Hex('p')}-3` }, true), true, 'a multipart ETag is no MD5 of the bytes');
  assert.equal(computes({ ...plainEtag, etag: md5Hex('p').toUpperCase() }, true), false, 'upper-case hex is still an MD5');
});
