/**
 * replicateObject against fakes that misbehave the ways real stores do: an edge read that differs
 * from the hashing pass, a core whose ETags are opaque (SSE-KMS) and that ignores Content-MD5, a
 * core that checks Content-MD5. A wrong copy must never count as landed, now or on the retry.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test, type TestContext } from 'node:test';

import { coerceError, TributaryError } from '../../../src/core/errors.js';
import type { ObjectHeaders } from '../../../src/core/object-headers.js';
import { openJournal } from '../../../src/journal/open-journal.js';
import type { Journal, JournalObject } from '../../../src/ports/journal.js';
import type { LakeHead } from '../../../src/ports/lake-store.js';
import type { SourceObject } from '../../../src/ports/source-store.js';
import { replicateObject, type ReplicateContext } from '../../../src/transfer/replicate-object.js';
import { createWeightedSemaphore } from '../../../src/transfer/weighted-semaphore.js';
import { FakeClock, FakeLake, FakeSource } from '../../helpers/fakes.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** An edge whose n-th whole-object read (1-based) returns the object with one byte flipped. */
class FlippingSource extends FakeSource {
  wholeReads = 0;
  constructor(private flipRead: number) {
    super();
  }
  /** Flips the n-th whole-object read from the start (0: none). */
  flipAt(n: number): void {
    this.flipRead = n;
  }
  override async read(object: Pick<SourceObject, 'bucket' | 'key' | 'etag'>, range: { start: number; end: number } | undefined) {
    const read = await super.read(object, range);
    if (range !== undefined || ++this.wholeReads !== this.flipRead) return read;
    const data = Buffer.concat((await read.body.toArray()) as Buffer[]);
    data[10]! ^= 1;
    return { ...read, body: Readable.from([data]) };
  }
}

/** A core under SSE-KMS that ignores Content-MD5: its ETags say nothing about the bytes. */
class KmsLake extends FakeLake {
  override async head(key: string): Promise<LakeHead | undefined> {
    const head = await super.head(key);
    return head && { ...head, etag: `kms-${head.etag}`, etagFromMd5: false };
  }
  override async put(
    key: string,
    body: Buffer | { stream: Readable; length: number },
    options: { metadata: Readonly<Record<string, string>> },
  ) {
    const answer = await super.put(key, body, options);
    return { etag: `kms-${answer.etag}`, etagFromMd5: false };
  }
}

/** A core that checks Content-MD5, as S3 does: a body with another MD5 is refused (BadDigest). */
class CheckingLake extends FakeLake {
  override async put(
    key: string,
    body: Buffer | { stream: Readable; length: number },
    options: { metadata: Readonly<Record<string, string>>; contentMd5?: string },
  ) {
    const data = Buffer.isBuffer(body) ? body : Buffer.concat((await body.stream.toArray()) as Buffer[]);
    const md5 = createHash('md5').update(data).digest('base64');
    if (options.contentMd5 !== undefined && md5 !== options.contentMd5) {
      throw new TributaryError('TRIB_ERR_LAND_MISMATCH', `core PUT ${key}: BadDigest`);
    }
    return super.put(key, data, options);
  }
}

function setUp(
  t: TestContext,
  source: FakeSource,
  lake: FakeLake,
  size: number,
  headers?: ObjectHeaders,
): { context: ReplicateContext; journal: Journal; data: Buffer; job: () => JournalObject } {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-replicate-'));
  const journal = openJournal(dir, new FakeClock());
  t.after(() => {
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const data = randomBytes(size);
  journal.recordSeen([source.put('edge', 'site/x.bin', data, undefined, headers)], () => ({ priority: 2, excluded: false }), 'scan');
  const context: ReplicateContext = {
    site: 'site-a',
    keyTemplate: '{site}/{bucket}/{key}',
    source,
    lake,
    journal,
    budget: createWeightedSemaphore(64 << 20),
    hashPasses: createWeightedSemaphore(2),
    partSize: 5 << 20,
    bufferThreshold: 64 << 10,
    multipartThreshold: 5 << 20,
    partConcurrency: 2,
    headBeforePut: 'auto',
  };
  return { context, journal, data, job: () => journal.latest('edge', 'site/x.bin')! };
}

/** Runs one attempt; a failure is recorded as the runner would (attempts + 1, the code kept). */
async function attempt(context: ReplicateContext, journal: Journal, job: JournalObject): Promise<TributaryError | undefined> {
  try {
    const result = await replicateObject(context, job);
    journal.markLanded(job.id, result);
    journal.flush();
    return undefined;
  } catch (error) {
    const err = coerceError(error);
    journal.markFailed(job.id, { code: err.code, message: err.message, outcome: 'retry', consumeAttempt: true, nextAttemptAt: 0 });
    return err;
  }
}

test('streamed: a second read that differs from the hashing pass leaves no copy on a KMS core, and the retry sends the right bytes', async (t) => {
  const lake = new KmsLake();
  const { context, journal, data, job } = setUp(t, new FlippingSource(2), lake, 300 << 10);
  const first = await attempt(context, journal, job());
  assert.equal(first?.code, 'TRIB_ERR_SOURCE_CORRUPT');
  assert.match(first.message, /two reads of one version differ .*the core copy was deleted/);
  assert.equal(lake.objects.size, 0, 'the wrong copy is gone');
  const second = await attempt(context, journal, job());
  assert.equal(second, undefined);
  assert.equal(lake.objects.get('site-a/edge/site/x.bin')!.data.equals(data), true);
  assert.equal(job().state, 'done');
  assert.equal(job().sha256, sha256(data));
});

test('a wrong copy whose DELETE failed is never taken for ours, whatever fails in between', async (t) => {
  const lake = new KmsLake();
  const source = new FlippingSource(2);
  const { context, journal, data, job } = setUp(t, source, lake, 300 << 10);
  lake.failNext('delete', () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
  const first = await attempt(context, journal, job());
  assert.equal(first?.code, 'TRIB_ERR_SOURCE_CORRUPT');
  assert.equal(lake.objects.size, 1, 'the DELETE failed: the wrong copy, with our SHA-256, is still there');
  assert.equal(journal.isCoreCopySuspect('site-a/edge/site/x.bin'), true);
  assert.deepEqual(journal.suspectCoreCopies(10), {
    objects: 1,
    latest: [{ bucket: 'edge', key: 'site/x.bin', state: 'failed', coreKey: 'site-a/edge/site/x.bin' }],
  });
  // The next attempt fails before its PUT (the edge unreachable) and replaces the last error...
  source.failNext('read', () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
  const second = await attempt(context, journal, job());
  assert.equal(second?.errorClass, 'unreachable', String(second?.code));
  assert.equal(lake.calls.filter((c) => c === 'put').length, 1);
  // ...and still the copy is not trusted: the object is uploaded again, and lands right.
  const puts = lake.calls.filter((c) => c === 'put').length;
  assert.equal(await attempt(context, journal, job()), undefined);
  assert.equal(lake.calls.filter((c) => c === 'put').length, puts + 1, 'uploaded again');
  assert.equal(lake.objects.get('site-a/edge/site/x.bin')!.data.equals(data), true);
  assert.equal(journal.isCoreCopySuspect('site-a/edge/site/x.bin'), false, 'cleared once a version landed there');
  assert.equal(journal.suspectCoreCopies(10).objects, 0);
});

test("the mark is the core key's: the same version journaled again (a rollback, or A, B, A) does not trust the wrong copy either", async (t) => {
  const lake = new KmsLake();
  const source = new FlippingSource(2);
  const { context, journal, data, job } = setUp(t, source, lake, 300 << 10);
  const a = job();
  lake.failNext('delete', () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
  assert.equal((await attempt(context, journal, a))?.code, 'TRIB_ERR_SOURCE_CORRUPT');
  // B is written, then B's version is deleted: A is current again, as a new row.
  const seenA = { bucket: a.bucket, key: a.key, etag: a.etag, size: a.size, mtime: new Date(a.mtimeMs) };
  journal.recordSeen([{ ...seenA, etag: 'b'.repeat(32) }], () => ({ priority: 2, excluded: false }), 'scan');
  journal.recordSeen([seenA], () => ({ priority: 2, excluded: false }), 'scan');
  const again = job();
  assert.notEqual(again.id, a.id);
  // One transient failure, so that the next attempt looks at the core first.
  journal.claim(5);
  journal.markFailed(again.id, { code: 'TRIB_ERR_CORE_SERVER', message: '500', outcome: 'retry', consumeAttempt: true, nextAttemptAt: 0 });
  const puts = lake.calls.filter((c) => c === 'put').length;
  assert.equal(await attempt(context, journal, job()), undefined);
  assert.equal(lake.calls.filter((c) => c === 'put').length, puts + 1, 'uploaded again, not taken from the wrong copy');
  assert.equal(lake.objects.get('site-a/edge/site/x.bin')!.data.equals(data), true);
});

test('streamed: a differing body whose PUT answer is lost is deleted, and its key stays suspect', async (t) => {
  class LosingLake extends KmsLake {
    lose = true;
    override async put(
      key: string,
      body: Buffer | { stream: Readable; length: number },
      options: { metadata: Readonly<Record<string, string>> },
    ) {
      const answer = await super.put(key, body, options);
      if (this.lose) {
        this.lose = false;
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      }
      return answer;
    }
  }
  const lake = new LosingLake();
  const { context, journal, data, job } = setUp(t, new FlippingSource(2), lake, 300 << 10);
  const first = await attempt(context, journal, job());
  assert.equal(first?.code, 'TRIB_ERR_SOURCE_CORRUPT');
  assert.match(first.message, /a copy of them the core holds is deleted/);
  assert.equal(lake.objects.size, 0);
  assert.equal(journal.isCoreCopySuspect('site-a/edge/site/x.bin'), true);
  assert.equal(await attempt(context, journal, job()), undefined);
  assert.equal(lake.objects.get('site-a/edge/site/x.bin')!.data.equals(data), true);
});

test("streamed: a differing body the core turned down leaves the previous version's landed copy alone", async (t) => {
  /** Reads the whole body, then answers 503 SlowDown without storing anything. */
  class ThrottlingLake extends FakeLake {
    throttle = false;
    override async put(
      key: string,
      body: Buffer | { stream: Readable; length: number },
      options: { metadata: Readonly<Record<string, string>> },
    ) {
      if (this.throttle && !Buffer.isBuffer(body)) {
        this.throttle = false;
        await body.stream.toArray();
        throw Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
      }
      return super.put(key, body, options);
    }
  }
  const lake = new ThrottlingLake();
  const source = new FlippingSource(0);
  const { context, journal, data, job } = setUp(t, source, lake, 300 << 10);
  assert.equal(await attempt(context, journal, job()), undefined, 'B lands');
  // C replaces B at the edge; C's second read differs, and the core turns the PUT down.
  source.put('edge', 'site/x.bin', randomBytes(300 << 10), new Date('2026-11-28T08:00:00Z'));
  journal.recordSeen(
    [
      {
        bucket: 'edge',
        key: 'site/x.bin',
        etag: source.objects.get('edge/site/x.bin')!.etag,
        size: 300 << 10,
        mtime: new Date('2026-11-28T08:00:00Z'),
      },
    ],
    () => ({ priority: 2, excluded: false }),
    'scan',
  );
  source.flipAt(source.wholeReads + 2);
  lake.throttle = true;
  const failed = await attempt(context, journal, job());
  assert.equal(failed?.code, 'TRIB_ERR_SOURCE_CORRUPT');
  assert.equal(lake.calls.includes('delete'), false);
  assert.equal(lake.objects.get('site-a/edge/site/x.bin')!.data.equals(data), true, "B's copy is still there");
  assert.equal(journal.isCoreCopySuspect('site-a/edge/site/x.bin'), true, 'marked all the same');
  assert.equal(journal.suspectCoreCopies(10).objects, 0, 'but not listed: nothing of C is there');
});

test('buffered: a read that contradicts the source ETag is caught before it counts, on a KMS core that ignores Content-MD5', async (t) => {
  const lake = new KmsLake();
  const { context, journal, data, job } = setUp(t, new FlippingSource(1), lake, 32 << 10);
  const first = await attempt(context, journal, job());
  assert.equal(first?.code, 'TRIB_ERR_SOURCE_CORRUPT');
  assert.equal(lake.objects.size, 0, 'the wrong copy is gone');
  assert.equal(await attempt(context, journal, job()), undefined);
  assert.equal(lake.objects.get('site-a/edge/site/x.bin')!.data.equals(data), true);
});

test('streamed: a differing second read refused by a core that checks Content-MD5 is blamed on the edge', async (t) => {
  const lake = new CheckingLake();
  const { context, journal, data, job } = setUp(t, new FlippingSource(2), lake, 300 << 10);
  const first = await attempt(context, journal, job());
  assert.equal(first?.code, 'TRIB_ERR_SOURCE_CORRUPT');
  assert.match(first.message, /the core refused them/);
  assert.equal(await attempt(context, journal, job()), undefined);
  assert.equal(lake.objects.get('site-a/edge/site/x.bin')!.data.equals(data), true);
});

test('an event row whose version a newer row holds is superseded, not transferred', async (t) => {
  const source = new FakeSource();
  const lake = new FakeLake();
  const { context, journal } = setUp(t, source, lake, 1);
  const at = new Date('2026-11-27T08:00:00.000Z');
  const a = source.put('edge', 'k', 'alpha', at);
  journal.recordSeen([{ ...a, mtime: new Date(at.getTime() + 700), mtimeExact: false }], () => ({ priority: 2, excluded: false }), 'event');
  const inFlight = journal.claim(2).find((o) => o.key === 'k')!;
  journal.recordSeen([{ ...a, etag: 'b'.repeat(32) }], () => ({ priority: 2, excluded: false }), 'scan');
  journal.recordSeen([a], () => ({ priority: 2, excluded: false }), 'scan');
  await assert.rejects(replicateObject(context, inFlight), (error: unknown) => coerceError(error).code === 'TRIB_ERR_SOURCE_CHANGED');
  assert.equal(lake.calls.includes('put'), false);
});

const EDGE_HEADERS: ObjectHeaders = {
  content: {
    'content-type': 'application/json',
    'content-encoding': 'gzip',
    'content-language': 'de-CH',
    'content-disposition': 'attachment; filename="x.json"',
    'cache-control': 'max-age=60',
    expires: 'Tue, 01 Jan 2030 00:00:00 GMT',
  },
  metadata: { owner: 'team-a', note: '=?UTF-8?B?w6l0w6k=?=' },
};

for (const [path, size] of [
  ['buffered', 32 << 10],
  ['streamed', 300 << 10],
  ['multipart', (5 << 20) + 3],
] as const) {
  test(`${path}: the core copy carries the edge object's content headers and user metadata beside the lineage`, async (t) => {
    const lake = new FakeLake();
    const { context, journal, data, job } = setUp(t, new FakeSource(), lake, size, EDGE_HEADERS);
    assert.equal(await attempt(context, journal, job()), undefined);
    const landed = lake.objects.get('site-a/edge/site/x.bin')!;
    assert.equal(landed.data.equals(data), true);
    assert.deepEqual(landed.content, EDGE_HEADERS.content);
    assert.equal(landed.metadata['owner'], 'team-a');
    assert.equal(landed.metadata['note'], '=?UTF-8?B?w6l0w6k=?=');
    assert.equal(landed.metadata['tributary-sha256'], sha256(data));
    assert.equal(lake.calls.includes(path === 'multipart' ? 'create' : 'put'), true);
  });

  test(`${path}: a user entry named like a lineage entry fails the object before anything is sent`, async (t) => {
    const lake = new FakeLake();
    const headers = { content: {}, metadata: { 'tributary-source-key': 'mine' } };
    const { context, journal, job } = setUp(t, new FakeSource(), lake, size, headers);
    const error = await attempt(context, journal, job());
    assert.equal(error?.code, 'TRIB_ERR_METADATA_CONFLICT');
    assert.match(error.message, /edge edge\/site\/x\.bin: user metadata x-amz-meta-tributary-source-key has the name of a lineage entry/);
    assert.deepEqual(
      lake.calls.filter((c) => c !== 'head'),
      [],
      'no PUT, no multipart upload',
    );
    assert.equal(lake.objects.size + lake.uploads.size, 0);
  });
}

test('a copy in the core with our bytes but other headers does not stand for a version whose headers changed', async (t) => {
  const lake = new FakeLake();
  const source = new FakeSource();
  const { context, journal, data, job } = setUp(t, source, lake, 32 << 10, EDGE_HEADERS);
  const looking = { ...context, headBeforePut: 'always' as const };
  assert.equal(await attempt(looking, journal, job()), undefined);
  // Same bytes written again at the edge with another type and metadata: a new Last-Modified.
  const later = new Date('2026-11-28T08:00:00Z');
  const changed: ObjectHeaders = { content: { ...EDGE_HEADERS.content, 'content-type': 'text/plain' }, metadata: { owner: 'team-b' } };
  journal.recordSeen([source.put('edge', 'site/x.bin', data, later, changed)], () => ({ priority: 2, excluded: false }), 'scan');
  const puts = lake.calls.filter((c) => c === 'put').length;
  assert.equal(await attempt(looking, journal, job()), undefined);
  assert.equal(lake.calls.filter((c) => c === 'put').length, puts + 1, 'sent again, with the new headers');
  const landed = lake.objects.get('site-a/edge/site/x.bin')!;
  assert.deepEqual(landed.content, changed.content);
  assert.equal(landed.metadata['owner'], 'team-b');
  assert.equal(landed.metadata['tributary-source-mtime'], later.toISOString());
  // With the headers now the same, the next look finds the copy and sends nothing.
  journal.recordSeen(
    [source.put('edge', 'site/x.bin', data, new Date('2026-11-29T08:00:00Z'), changed)],
    () => ({ priority: 2, excluded: false }),
    'scan',
  );
  assert.equal(await attempt(looking, journal, job()), undefined);
  assert.equal(lake.calls.filter((c) => c === 'put').length, puts + 1, 'not sent a third time');
  assert.equal(job().state, 'done');
});

test('multipart: a resumed upload lands with the headers given at its creation, without reading them again', async (t) => {
  /** Fails part 2 once, after part 1 was acknowledged and journaled. */
  class PartTwoFailsLake extends FakeLake {
    failed = false;
    override async uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer) {
      if (partNumber === 2 && !this.failed) {
        this.failed = true;
        throw new TributaryError('TRIB_ERR_CORE_SERVER', 'core UploadPart: 500');
      }
      return super.uploadPart(key, uploadId, partNumber, body);
    }
  }
  const lake = new PartTwoFailsLake();
  const source = new FakeSource();
  const { context, journal, data, job } = setUp(t, source, lake, (10 << 20) + 5, EDGE_HEADERS);
  const oneAtATime = { ...context, partConcurrency: 1 };
  assert.equal((await attempt(oneAtATime, journal, job()))?.code, 'TRIB_ERR_CORE_SERVER');
  assert.equal(journal.multipart(job().id)?.parts.size, 1, 'part 1 journaled');
  const readsBefore = source.reads;
  assert.equal(await attempt(oneAtATime, journal, job()), undefined);
  assert.equal(lake.calls.filter((c) => c === 'create').length, 1, 'the same upload, resumed');
  assert.equal(source.reads - readsBefore, 2, 'parts 2 and 3 read, no hashing pass for the headers');
  const landed = lake.objects.get('site-a/edge/site/x.bin')!;
  assert.equal(landed.data.equals(data), true);
  assert.deepEqual(landed.content, EDGE_HEADERS.content);
  assert.equal(landed.metadata['owner'], 'team-a');
});
