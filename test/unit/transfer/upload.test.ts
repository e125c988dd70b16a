/**
 * The upload stage alone (src/transfer/upload.ts): what a core object carries besides its bytes
 * (the edge's content headers and user metadata beside the lineage), and what one PUT sends:
 * the body, Content-MD5, those headers, and the progress it reports.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';

import type { TributaryError } from '../../../src/core/errors.js';
import type { ObjectHeaders } from '../../../src/core/object-headers.js';
import type { LakePutOptions, StreamBody } from '../../../src/ports/lake-store.js';
import { landingHeaders, uploadSingle } from '../../../src/transfer/upload.js';
import { FakeLake, FakeSource } from '../../helpers/fakes.js';
import { contextWithoutJournal, jobOf, md5Hex, sha256Hex } from '../../helpers/transfer-stage.js';

/** A core that records what each PUT carried. */
class RecordingLake extends FakeLake {
  readonly puts: { key: string; options: LakePutOptions; streamed: boolean }[] = [];
  override async put(key: string, body: Buffer | StreamBody, options: LakePutOptions) {
    this.puts.push({ key, options, streamed: !Buffer.isBuffer(body) });
    return super.put(key, body, options);
  }
}

const EDGE: ObjectHeaders = {
  content: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip', 'cache-control': 'max-age=60' },
  metadata: { line: '7', shift: 'night' },
};

function world() {
  const source = new FakeSource();
  const lake = new RecordingLake();
  const sent: number[] = [];
  const context = contextWithoutJournal(source, lake, { onBytesSent: (bytes) => sent.push(bytes) });
  const data = Buffer.from('{"t":1}\n{"t":2}\n');
  const object = source.put('telemetry', 'line 7/ä.jsonl', data, new Date('2026-11-27T08:00:00.250Z'), EDGE);
  return { context, lake, sent, data, job: jobOf(object) };
}

test("landingHeaders: the edge's content headers and user metadata, with the lineage beside them", () => {
  const { context, data, job } = world();
  const landing = landingHeaders(context, job, sha256Hex(data), EDGE);
  assert.deepEqual(landing, {
    content: EDGE.content,
    metadata: {
      line: '7',
      shift: 'night',
      'tributary-site': 'site-a',
      'tributary-source-bucket': 'telemetry',
      'tributary-source-key': 'line%207%2F%C3%A4.jsonl',
      'tributary-source-etag': md5Hex(data),
      'tributary-source-mtime': '2026-11-27T08:00:00.250Z',
      'tributary-sha256': sha256Hex(data),
      'tributary-encoding': 'identity',
      'tributary-original-size': String(data.length),
    },
  });
  assert.notEqual(landing.content, EDGE.content, 'a copy: the edge answer is not shared');
});

test('landingHeaders: a user entry named like a lineage entry, or too much metadata, fails before anything is sent', () => {
  const { context, lake, data, job } = world();
  const conflict = { content: {}, metadata: { 'tributary-sha256': 'mine' } };
  assert.throws(
    () => landingHeaders(context, job, sha256Hex(data), conflict),
    (error: TributaryError) =>
      error.code === 'TRIB_ERR_METADATA_CONFLICT' &&
      error.message.includes('edge telemetry/line 7/ä.jsonl: user metadata x-amz-meta-tributary-sha256'),
  );
  const large = { content: {}, metadata: { notes: 'n'.repeat(2000) } };
  assert.throws(
    () => landingHeaders(context, job, sha256Hex(data), large),
    (error: TributaryError) => error.code === 'TRIB_ERR_METADATA_TOO_LARGE' && error.message.includes("over S3's limit of 2048"),
  );
  assert.deepEqual(lake.calls, []);
});

test('uploadSingle: one PUT with the bytes, Content-MD5, the content headers and the metadata; progress after it', async () => {
  const { context, lake, sent, data, job } = world();
  const landing = landingHeaders(context, job, sha256Hex(data), EDGE);
  const answer = await uploadSingle(context, job, 'site-a/telemetry/x', data, md5Hex(data), landing, undefined);
  assert.deepEqual(answer, { etag: md5Hex(data), etagFromMd5: true });
  assert.equal(lake.puts.length, 1);
  const [put] = lake.puts;
  assert.equal(put!.key, 'site-a/telemetry/x');
  assert.equal(put!.streamed, false);
  assert.equal(put!.options.contentMd5, Buffer.from(md5Hex(data), 'hex').toString('base64'));
  assert.deepEqual(put!.options.metadata, landing.metadata);
  assert.deepEqual(put!.options.content, EDGE.content);
  assert.equal(put!.options.contentType, undefined, "a replicated object's type is the edge's Content-Type, in content");
  const stored = lake.objects.get('site-a/telemetry/x')!;
  assert.equal(stored.data.equals(data), true);
  assert.deepEqual(stored.content, EDGE.content);
  assert.deepEqual(sent, [data.length]);
});

test('uploadSingle: a streamed body goes as it is, with the Content-MD5 it was given (the source ETag)', async () => {
  const { context, lake, sent, data, job } = world();
  const landing = landingHeaders(context, job, sha256Hex(data), EDGE);
  const body = { stream: Readable.from([data.subarray(0, 5), data.subarray(5)]), length: data.length };
  await uploadSingle(context, job, 'k', body, job.etag, landing, undefined);
  assert.equal(lake.puts[0]!.streamed, true);
  assert.equal(lake.puts[0]!.options.contentMd5, Buffer.from(job.etag, 'hex').toString('base64'));
  assert.equal(lake.objects.get('k')!.data.equals(data), true);
  assert.deepEqual(sent, [data.length]);
});

test('uploadSingle: a refused PUT reports no bytes sent', async () => {
  const { context, lake, sent, data, job } = world();
  lake.failNext('put', () => Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
  const landing = landingHeaders(context, job, sha256Hex(data), EDGE);
  await assert.rejects(uploadSingle(context, job, 'k', data, md5Hex(data), landing, undefined), { code: 'TRIB_ERR_CORE_ACCESS_DENIED' });
  assert.deepEqual(sent, []);
  assert.equal(lake.objects.size, 0);
});
