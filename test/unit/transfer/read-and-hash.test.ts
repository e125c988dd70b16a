/**
 * The read-and-hash stage alone (src/transfer/read-and-hash.ts): a read into a buffer of the
 * listed length, hashed as asked; a hashing pass with the MD5 of each part; a body of the wrong
 * length, or one that breaks off, is the edge's bad answer, named with the object.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';

import type { SourceObject, SourceRead } from '../../../src/ports/source-store.js';
import { hashPass, hashWholeObject, isPlainMd5Etag, readIntoBuffer, sourceCorrupt } from '../../../src/transfer/read-and-hash.js';
import { createWeightedSemaphore } from '../../../src/transfer/weighted-semaphore.js';
import { FakeSource } from '../../helpers/fakes.js';
import { jobOf, md5Hex, sha256Hex } from '../../helpers/transfer-stage.js';

/** An edge whose answers carry `body` instead of the object's bytes. */
class BodySource extends FakeSource {
  constructor(private readonly body: () => Readable) {
    super();
  }
  override async read(object: Pick<SourceObject, 'bucket' | 'key' | 'etag'>, range: { start: number; end: number } | undefined) {
    return { ...(await super.read(object, range)), body: this.body() };
  }
}

test('readIntoBuffer: the whole object or a range, with the hashes asked for', async () => {
  const source = new FakeSource();
  const data = randomBytes(10_000);
  const object = source.put('edge', 'k', data);
  const whole = await readIntoBuffer(source, object, undefined, { sha256: true, md5: true });
  assert.equal(whole.data.equals(data), true);
  assert.equal(whole.sha256?.toString('hex'), sha256Hex(data));
  assert.equal(whole.md5?.toString('hex'), md5Hex(data));
  const part = await readIntoBuffer(source, object, { start: 100, end: 199 }, { sha256: false, md5: true });
  assert.equal(part.data.equals(data.subarray(100, 200)), true);
  assert.equal(part.md5?.toString('hex'), md5Hex(data.subarray(100, 200)));
  assert.equal(part.sha256, undefined);
  // The MD5 decided from the answer: not wanted for this one.
  const asked: boolean[] = [];
  const decided = await readIntoBuffer(source, object, undefined, {
    sha256: false,
    md5: (read: SourceRead) => {
      asked.push(read.etagFromMd5);
      return false;
    },
  });
  assert.deepEqual(asked, [true]);
  assert.equal(decided.md5, undefined);
});

test('readIntoBuffer: a body longer or shorter than listed, or one that breaks off, is TRIB_ERR_EDGE_BAD_RESPONSE', async () => {
  const object = { bucket: 'edge', key: 'k', etag: md5Hex('0123456789'), size: 10 };
  const answer = (chunks: () => Readable) => {
    const source = new BodySource(chunks);
    source.put('edge', 'k', '0123456789');
    return readIntoBuffer(source, object, undefined, { sha256: true, md5: false });
  };
  await assert.rejects(
    answer(() => Readable.from([Buffer.from('0123456789A')])),
    {
      code: 'TRIB_ERR_EDGE_BAD_RESPONSE',
      message: 'edge GET edge/k: body of 11 bytes, expected 10',
    },
  );
  await assert.rejects(
    answer(() => Readable.from([Buffer.from('01234')])),
    {
      code: 'TRIB_ERR_EDGE_BAD_RESPONSE',
      message: 'edge GET edge/k: body of 5 bytes, expected 10',
    },
  );
  const broken = () =>
    new Readable({
      read() {
        this.push(Buffer.from('0123'));
        this.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
      },
    });
  await assert.rejects(answer(broken), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'TRIB_ERR_EDGE_BAD_RESPONSE');
    assert.match(error.message, /^edge GET edge\/k: the read broke off after 4 bytes: read ECONNRESET$/);
    return true;
  });
});

test('hashWholeObject: the SHA-256, the MD5 when asked, and the MD5 of every part, the last one short', async () => {
  const source = new FakeSource();
  const data = randomBytes(2500);
  const object = source.put('edge', 'k', data);
  const hashes = await hashWholeObject(source, object, { md5: true, partSize: 1000 });
  assert.equal(hashes.sha256.toString('hex'), sha256Hex(data));
  assert.equal(hashes.md5?.toString('hex'), md5Hex(data));
  assert.deepEqual(
    hashes.partMd5s?.toString('hex').match(/.{32}/g),
    [0, 1, 2].map((i) => md5Hex(data.subarray(i * 1000, (i + 1) * 1000))),
  );
  // Exactly two parts: no empty third.
  const even = await hashWholeObject(source, source.put('edge', 'e', data.subarray(0, 2000)), { md5: false, partSize: 1000 });
  assert.equal(even.partMd5s?.length, 32);
  assert.equal(even.md5, undefined);
  // An empty object is one empty part.
  const empty = await hashWholeObject(source, source.put('edge', 'z', Buffer.alloc(0)), { md5: false, partSize: 1000 });
  assert.deepEqual(empty.partMd5s?.toString('hex'), md5Hex(''));
});

test('hashPass: holds one hashing slot while it reads, and gives it back after a failure too', async () => {
  const source = new FakeSource();
  const job = jobOf(source.put('edge', 'k', 'bytes'));
  const hashPasses = createWeightedSemaphore(1);
  const held = await hashPasses.acquire(1);
  let done = false;
  const pass = hashPass({ hashPasses, source }, job, { md5: false }, undefined).then((h) => {
    done = true;
    return h;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(done, false, 'waits for the slot');
  assert.equal(source.reads, 0, 'and has not started reading');
  held();
  assert.equal((await pass).sha256.toString('hex'), sha256Hex('bytes'));
  assert.equal(hashPasses.inUse, 0);
  source.failNext('read', () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
  await assert.rejects(hashPass({ hashPasses, source }, job, { md5: false }, undefined), { code: 'TRIB_ERR_EDGE_UNREACHABLE' });
  assert.equal(hashPasses.inUse, 0);
});

test('isPlainMd5Etag and sourceCorrupt', () => {
  assert.deepEqual([md5Hex('x'), md5Hex('x').toUpperCase(), `${md5Hex('x')}-2`, 'kms-1', ''].map(isPlainMd5Etag), [
    true,
    true,
    false,
    false,
    false,
  ]);
  const error = sourceCorrupt({ bucket: 'edge', key: 'a/b', etag: md5Hex('x') }, md5Hex('y'));
  assert.equal(error.code, 'TRIB_ERR_SOURCE_CORRUPT');
  assert.equal(error.message, `edge GET edge/a/b: content MD5 ${md5Hex('y')} does not match its ETag ${md5Hex('x')}`);
});
