/**
 * The multipart stages alone (src/transfer/multipart.ts): start after a hashing pass or resume the
 * journaled upload (aborting one journaled for another core key); upload only the parts the
 * journal does not hold, journaling each; complete, and after a lost answer look in the core
 * before the attempt fails.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';

import type { JournalObject, MultipartProgress } from '../../../src/ports/journal.js';
import type { SourceObject } from '../../../src/ports/source-store.js';
import type { ReplicateResult } from '../../../src/transfer/context.js';
import { completeAndConfirm, startOrResume, uploadParts } from '../../../src/transfer/multipart.js';
import { mapS3Error } from '../../../src/s3/map-error.js';
import { FakeLake, FakeSource, sdkError } from '../../helpers/fakes.js';
import { md5Hex, sha256Hex, stageWorld, type StageWorld } from '../../helpers/transfer-stage.js';

/** Parts are whole MiB at least (plan.ts, effectivePartSize). */
const PART = 1 << 20;
const KEY = 'site-a/edge/big.bin';

/** An edge that logs its reads: whole (a hashing pass) or the range of a part. */
class LoggingSource extends FakeSource {
  readonly log: string[] = [];
  override async read(object: Pick<SourceObject, 'bucket' | 'key' | 'etag'>, range: { start: number; end: number } | undefined) {
    this.log.push(range === undefined ? 'whole' : `${range.start}-${range.end}`);
    return super.read(object, range);
  }
}

function world(t: Parameters<typeof stageWorld>[0], lake = new FakeLake()) {
  const source = new LoggingSource();
  const w = stageWorld(t, { source, lake, settings: { partSize: PART, multipartThreshold: PART } });
  const data = randomBytes(3 * PART + 1000);
  const job = w.journaled('big.bin', data, { headers: { content: { 'content-type': 'video/mp4' }, metadata: { camera: '7' } } });
  w.journal.claim(10);
  return { w, source, data, job };
}

function isProgress(value: MultipartProgress | ReplicateResult): value is MultipartProgress {
  return 'uploadId' in value;
}

async function started(w: StageWorld, job: JournalObject): Promise<MultipartProgress> {
  const upload = await startOrResume(w.context, job, KEY, undefined);
  assert.ok(isProgress(upload));
  return upload;
}

test('startOrResume: a new upload after a hashing pass, created with the headers and journaled with the SHA-256 and part MD5s', async (t) => {
  const { w, source, data, job } = world(t);
  const upload = await started(w, job);
  assert.deepEqual(source.log, ['whole'], 'one hashing pass');
  assert.deepEqual(w.lake.calls, ['create']);
  assert.equal(upload.coreKey, KEY);
  assert.equal(upload.partSize, PART);
  assert.equal(upload.sha256, sha256Hex(data));
  assert.equal(upload.parts.size, 0);
  const partMd5s = [0, 1, 2, 3].map((i) => md5Hex(data.subarray(i * PART, (i + 1) * PART)));
  assert.deepEqual(upload.partMd5s?.toString('hex').match(/.{32}/g), partMd5s);
  assert.deepEqual(w.journal.multipart(job.id), upload, 'journaled as returned');
  const created = w.lake.uploads.get(upload.uploadId)!;
  assert.equal(created.key, KEY);
  assert.deepEqual(created.content, { 'content-type': 'video/mp4' });
  assert.equal(created.metadata['camera'], '7');
  assert.equal(created.metadata['tributary-sha256'], sha256Hex(data));
});

test('startOrResume: the journaled upload for this core key is resumed as it is, without reading the edge', async (t) => {
  const { w, source, job } = world(t);
  const first = await started(w, job);
  w.journal.recordPart(job.id, 1, 'etag-1', PART);
  source.log.length = 0;
  w.lake.calls.length = 0;
  const resumed = await started(w, job);
  assert.equal(resumed.uploadId, first.uploadId);
  assert.deepEqual([...resumed.parts], [[1, { etag: 'etag-1', size: PART }]]);
  assert.deepEqual(source.log, []);
  assert.deepEqual(w.lake.calls, []);
});

test('startOrResume: an upload journaled for another core key is aborted and forgotten; a new one starts', async (t) => {
  const { w, job } = world(t);
  const oldId = await w.lake.createMultipart('site-a/old-template/big.bin', { metadata: {} });
  w.journal.startMultipart(job.id, { uploadId: oldId, coreKey: 'site-a/old-template/big.bin', partSize: PART, sha256: 'f'.repeat(64) });
  w.journal.recordPart(job.id, 1, 'etag-1', PART);
  const upload = await started(w, job);
  assert.equal(w.lake.uploads.has(oldId), false, 'aborted at the core');
  assert.notEqual(upload.uploadId, oldId);
  assert.equal(upload.coreKey, KEY);
  assert.equal(upload.parts.size, 0, "none of the old upload's parts carried over");
  assert.equal(w.journal.multipart(job.id)?.uploadId, upload.uploadId);
});

test('startOrResume: a copy the core already holds is the landing, and no upload is created', async (t) => {
  const { w, data, job } = world(t);
  const upload = await started(w, job);
  const parts = await uploadParts(w.context, job, KEY, upload, undefined);
  await completeAndConfirm(w.context, job, KEY, upload, parts, undefined);
  w.journal.forgetMultipart(job.id);
  w.lake.calls.length = 0;
  const again = await startOrResume({ ...w.context, headBeforePut: 'always' }, job, KEY, undefined);
  assert.deepEqual(again, { coreKey: KEY, sha256: sha256Hex(data), coreEtag: md5Hex(data), coreSize: data.length, alreadyPresent: true });
  assert.deepEqual(w.lake.calls, ['head']);
  assert.equal(w.journal.multipart(job.id), undefined);
});

test('startOrResume: a hashing pass whose MD5 is not the edge ETag is TRIB_ERR_SOURCE_CORRUPT, before any upload', async (t) => {
  const { w, job } = world(t);
  await assert.rejects(startOrResume(w.context, { ...job, etag: md5Hex('not these bytes') }, KEY, undefined), {
    code: 'TRIB_ERR_SOURCE_CORRUPT',
  });
  assert.deepEqual(w.lake.calls, []);
  assert.equal(w.journal.multipart(job.id), undefined);
});

test('uploadParts: only the parts the journal does not hold are read and sent; each is journaled; all come back in order', async (t) => {
  const { w, source, data, job } = world(t);
  const upload = await started(w, job);
  // Part 2 landed before a crash: in the core and in the journal.
  const two = await w.lake.uploadPart(KEY, upload.uploadId, 2, data.subarray(PART, 2 * PART));
  w.journal.recordPart(job.id, 2, two.etag, PART);
  const resumed = w.journal.multipart(job.id)!;
  source.log.length = 0;
  w.lake.calls.length = 0;
  const sent: number[] = [];
  const parts = await uploadParts({ ...w.context, onBytesSent: (n) => sent.push(n) }, job, KEY, resumed, undefined);
  assert.deepEqual(
    parts.map((p) => p.partNumber),
    [1, 2, 3, 4],
  );
  assert.deepEqual(
    parts.map((p) => p.etag),
    [0, 1, 2, 3].map((i) => md5Hex(data.subarray(i * PART, (i + 1) * PART))),
  );
  assert.deepEqual(source.log.sort(), [`0-${PART - 1}`, `${2 * PART}-${3 * PART - 1}`, `${3 * PART}-${data.length - 1}`].sort());
  assert.deepEqual(w.lake.calls, ['uploadPart', 'uploadPart', 'uploadPart']);
  assert.deepEqual(
    sent.sort((a, b) => a - b),
    [1000, PART, PART],
  );
  assert.deepEqual([...w.journal.multipart(job.id)!.parts.keys()].sort(), [1, 2, 3, 4]);
});

test('uploadParts: a part that reads otherwise than the hashing pass aborts the upload and forgets it', async (t) => {
  const { w, source, data, job } = world(t);
  const upload = await started(w, job);
  const changed = Buffer.from(data);
  changed[2 * PART + 5]! ^= 1;
  source.objects.set('edge/big.bin', { ...source.objects.get('edge/big.bin')!, data: changed });
  await assert.rejects(
    uploadParts({ ...w.context, partConcurrency: 1 }, job, KEY, upload, undefined),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'TRIB_ERR_SOURCE_CORRUPT');
      assert.match(
        error.message,
        /part 3 \(bytes 2097152-3145727\): MD5 [0-9a-f]{32}, but the hashing pass read [0-9a-f]{32}; the upload starts over/,
      );
      return true;
    },
  );
  assert.equal(w.lake.uploads.has(upload.uploadId), false, 'aborted');
  assert.equal(w.journal.multipart(job.id), undefined, 'forgotten: the next attempt hashes again');
});

/** A core whose CompleteMultipartUpload assembles the object, then loses its answer. */
class LosingLake extends FakeLake {
  lose = false;
  override async completeMultipart(key: string, uploadId: string, parts: readonly { partNumber: number }[]) {
    await super.completeMultipart(key, uploadId, parts);
    if (this.lose) throw mapS3Error(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'core', 'complete');
  }
}

async function readyToComplete(t: Parameters<typeof stageWorld>[0], lake: FakeLake) {
  const { w, data, job } = world(t, lake);
  const upload = await started(w, job);
  const parts = await uploadParts(w.context, job, KEY, upload, undefined);
  w.lake.calls.length = 0;
  return { w, data, job, upload, parts };
}

test('completeAndConfirm: completes, then a HEAD confirms; the journal keeps the upload until the runner lands the row', async (t) => {
  const { w, data, job, upload, parts } = await readyToComplete(t, new FakeLake());
  const result = await completeAndConfirm(w.context, job, KEY, upload, parts, undefined);
  assert.deepEqual(result, { coreKey: KEY, sha256: sha256Hex(data), coreEtag: md5Hex(data), coreSize: data.length, alreadyPresent: false });
  assert.deepEqual(w.lake.calls, ['complete', 'head']);
  assert.equal(w.lake.objects.get(KEY)!.data.equals(data), true);
  assert.equal(w.journal.multipart(job.id)?.uploadId, upload.uploadId);
});

test('completeAndConfirm: an answer lost after the core assembled the object is looked for, found, and landed', async (t) => {
  const lake = new LosingLake();
  const { w, data, job, upload, parts } = await readyToComplete(t, lake);
  lake.lose = true;
  const result = await completeAndConfirm(w.context, job, KEY, upload, parts, undefined);
  assert.equal(result.sha256, sha256Hex(data));
  assert.equal(result.alreadyPresent, false);
  assert.deepEqual(w.lake.calls, ['complete', 'head', 'head'], 'looked before failing, then confirmed');
});

test('completeAndConfirm: a lost answer with nothing assembled fails; the upload stays journaled to complete again', async (t) => {
  const { w, job, upload, parts } = await readyToComplete(t, new FakeLake());
  w.lake.failNext('complete', sdkError.network);
  await assert.rejects(completeAndConfirm(w.context, job, KEY, upload, parts, undefined), { code: 'TRIB_ERR_CORE_UNREACHABLE' });
  assert.deepEqual(w.lake.calls, ['complete', 'head']);
  assert.equal(w.journal.multipart(job.id)?.uploadId, upload.uploadId);
  assert.equal(w.journal.multipart(job.id)?.parts.size, 4);
});

test('completeAndConfirm: an upload the core no longer knows is forgotten, so the next attempt starts a new one', async (t) => {
  const { w, job, upload, parts } = await readyToComplete(t, new FakeLake());
  w.lake.failNext('complete', () => Object.assign(new Error('The specified upload does not exist'), { name: 'NoSuchUpload' }));
  await assert.rejects(completeAndConfirm(w.context, job, KEY, upload, parts, undefined), { code: 'TRIB_ERR_CORE_UPLOAD_LOST' });
  assert.equal(w.journal.multipart(job.id), undefined);
});

test('completeAndConfirm: after a lost answer at a suspect key, no copy there is looked at: the attempt fails', async (t) => {
  const lake = new LosingLake();
  const { w, job, upload, parts } = await readyToComplete(t, lake);
  w.journal.markCoreCopySuspect(job, KEY);
  lake.lose = true;
  await assert.rejects(completeAndConfirm(w.context, job, KEY, upload, parts, undefined), { code: 'TRIB_ERR_CORE_UNREACHABLE' });
  assert.deepEqual(w.lake.calls, ['complete']);
});
