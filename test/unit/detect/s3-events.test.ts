import assert from 'node:assert/strict';
import { test } from 'node:test';

import { EventBodyError, parseS3Events } from '../../../src/detect/s3-events.js';

const now = new Date('2026-11-27T12:00:00Z');
const rec = (eventSource: string, key: string, extra: Record<string, unknown> = {}) => ({
  eventSource,
  eventName: 'ObjectCreated:Put',
  eventTime: '2026-11-27T11:59:58.123Z',
  s3: { bucket: { name: 'b' }, object: { key, size: 5, eTag: '"abc"', ...extra } },
});

test('keys: URL-encoded from AWS and MinIO (and unknown sources), raw from Ceph, or as configured', () => {
  const body = {
    Records: [rec('aws:s3', 'a+b%2Bc%C3%A9'), rec('minio:s3', 'dir%2Fx+y'), rec('ceph:s3', 'raw+key %'), rec('other', 'o%20k')],
  };
  assert.deepEqual(
    parseS3Events(body, 'auto', now).created.map((o) => o.key),
    ['a b+cé', 'dir/x y', 'raw+key %', 'o k'],
  );
  assert.deepEqual(parseS3Events({ Records: [rec('ceph:s3', 'x+y')] }, 'url', now).created[0]!.key, 'x y');
  assert.deepEqual(parseS3Events({ Records: [rec('aws:s3', 'x+y')] }, 'raw', now).created[0]!.key, 'x+y');
});

test('a created record gives a version with the event time as a provisional mtime', () => {
  const [object] = parseS3Events({ Records: [rec('ceph:s3', 'k', { size: '1024', versionId: 'v1' })] }, 'auto', now).created;
  assert.deepEqual(object, {
    bucket: 'b',
    key: 'k',
    etag: 'abc',
    size: 1024,
    mtime: new Date('2026-11-27T11:59:58.123Z'),
    mtimeExact: false,
    versionId: 'v1',
  });
});

test('removals and other kinds are told apart; s3: prefixes are accepted', () => {
  const parsed = parseS3Events(
    {
      Records: [
        { ...rec('minio:s3', 'k'), eventName: 's3:ObjectRemoved:Delete' },
        { ...rec('aws:s3', 'k'), eventName: 'ObjectRestore:Post' },
        { ...rec('minio:s3', 'k2'), eventName: 's3:ObjectCreated:CompleteMultipartUpload' },
      ],
    },
    'auto',
    now,
  );
  assert.deepEqual(parsed.removed, [{ bucket: 'b', key: 'k' }]);
  assert.equal(parsed.otherKinds, 1);
  assert.equal(parsed.created.length, 1);
});

test('malformed bodies and records are refused with the path of the problem', () => {
  const refuse = (body: unknown, message: RegExp) =>
    assert.throws(
      () => parseS3Events(body, 'auto', now),
      (e: unknown) => e instanceof EventBodyError && message.test(e.message),
    );
  refuse(null, /"Records" list/);
  refuse([], /"Records" list/);
  refuse({ Records: {} }, /"Records" list/);
  refuse({ Records: [42] }, /Records\[0\]: expected an object/);
  refuse({ Records: [{ eventName: 7 }] }, /Records\[0\]\.eventName/);
  refuse({ Records: [rec('aws:s3', '')] }, /Records\[0\]\.s3\.object\.key/);
  refuse({ Records: [rec('aws:s3', '%E0%A4%A')] }, /not valid URL encoding/);
  refuse({ Records: [rec('aws:s3', 'k', { size: 'big' })] }, /size/);
  refuse({ Records: [rec('aws:s3', 'k', { eTag: undefined })] }, /eTag/);
  refuse({ Records: [{ ...rec('aws:s3', 'k'), s3: { bucket: {}, object: { key: 'k' } } }] }, /bucket\.name/);
});

test('ETags, sizes and keys that only look valid are refused', () => {
  const refuse = (body: unknown, message: RegExp) =>
    assert.throws(
      () => parseS3Events(body, 'auto', now),
      (e: unknown) => e instanceof EventBodyError && message.test(e.message),
    );
  // Quotes alone are no ETag: they are stripped before the emptiness check.
  refuse({ Records: [rec('aws:s3', 'k', { eTag: '""' })] }, /Records\[0\]\.s3\.object\.eTag/);
  // A size sent as text must be plain digits: what Number() would also accept is not a size.
  for (const size of ['', ' ', '0x10', '1e3', '+7', '-1', '1.5'])
    refuse({ Records: [rec('ceph:s3', 'k', { size })] }, /Records\[0\]\.s3\.object\.size/);
  assert.equal(parseS3Events({ Records: [rec('ceph:s3', 'k', { size: '007' })] }, 'auto', now).created[0]!.size, 7);
  // A lone surrogate has no UTF-8 form: the journal would hold another key than the edge's.
  refuse({ Records: [rec('ceph:s3', 'a\ud800b')] }, /Records\[0\]\.s3\.object\.key: not valid Unicode/);
  refuse({ Records: [rec('aws:s3', '%ED%A0%80')] }, /Records\[0\]\.s3\.object\.key/);
  assert.equal(parseS3Events({ Records: [rec('ceph:s3', 'emoji 😀')] }, 'auto', now).created[0]!.key, 'emoji 😀');
});
