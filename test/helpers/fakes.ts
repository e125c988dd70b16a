/**
 * In-memory stand-ins for the ports, for unit tests of the runner and the scanner. Each store
 * can be told to fail a given operation with a given error, a given number of times.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

import type { ContentHeaders, ObjectHeaders } from '../../src/core/object-headers.js';
import type { Clock } from '../../src/ports/clock.js';
import { mapS3Error } from '../../src/s3/map-error.js';
import type { LakeHead, LakeObjectOptions, LakeStore } from '../../src/ports/lake-store.js';
import type { SourceHead, SourceObject, SourceStore } from '../../src/ports/source-store.js';

const NO_HEADERS: ObjectHeaders = { content: {}, metadata: {} };

/** What a server stores of a write's headers: `contentType` wins over `content`'s, as in the S3 adapter. */
function storedContent(options: LakeObjectOptions): ContentHeaders {
  return { ...options.content, ...(options.contentType === undefined ? {} : { 'content-type': options.contentType }) };
}

export class FakeClock implements Clock {
  constructor(public time = 1_800_000_000_000) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

interface Failure {
  error: () => unknown;
  times: number;
}

export class FakeSource implements SourceStore {
  readonly objects = new Map<string, { data: Buffer; etag: string; mtime: Date; headers: ObjectHeaders }>();
  readonly failures = new Map<string, Failure>();
  reads = 0;
  lists = 0;

  put(
    bucket: string,
    key: string,
    data: Buffer | string,
    mtime = new Date('2026-11-27T08:00:00Z'),
    headers: ObjectHeaders = NO_HEADERS,
  ): SourceObject {
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    const etag = createHash('md5').update(body).digest('hex');
    this.objects.set(`${bucket}/${key}`, { data: body, etag, mtime, headers });
    return { bucket, key, etag, size: body.length, mtime };
  }

  failNext(operation: 'list' | 'read' | 'head' | 'delete', error: () => unknown, times = 1): void {
    this.failures.set(operation, { error, times });
  }

  private maybeFail(operation: string): void {
    const failure = this.failures.get(operation);
    if (failure && failure.times > 0) {
      failure.times -= 1;
      throw mapS3Error(failure.error(), 'edge', operation);
    }
  }

  async list(bucket: string, prefix: string, startAfter: string | undefined, pageSize: number) {
    this.lists += 1;
    this.maybeFail('list');
    const keys = [...this.objects.keys()]
      .filter((k) => k.startsWith(`${bucket}/${prefix}`))
      .map((k) => k.slice(bucket.length + 1))
      .filter((k) => startAfter === undefined || k > startAfter)
      .sort();
    const page = keys.slice(0, pageSize);
    return {
      objects: page.map((key) => {
        const o = this.objects.get(`${bucket}/${key}`)!;
        return { bucket, key, etag: o.etag, size: o.data.length, mtime: o.mtime };
      }),
      nextStartAfter: keys.length > pageSize ? page.at(-1) : undefined,
    };
  }

  async read(object: Pick<SourceObject, 'bucket' | 'key' | 'etag'>, range: { start: number; end: number } | undefined) {
    this.reads += 1;
    this.maybeFail('read');
    const o = this.objects.get(`${object.bucket}/${object.key}`);
    if (!o) throw mapS3Error(sdkError.noSuchKey(), 'edge', 'read');
    const data = range ? o.data.subarray(range.start, range.end + 1) : o.data;
    return { body: Readable.from([data]), etag: o.etag, size: data.length, etagFromMd5: true, headers: o.headers };
  }

  async head(object: Pick<SourceObject, 'bucket' | 'key'>): Promise<SourceHead> {
    this.maybeFail('head');
    const o = this.objects.get(`${object.bucket}/${object.key}`);
    if (!o) throw mapS3Error(sdkError.noSuchKey(), 'edge', 'head');
    return { bucket: object.bucket, key: object.key, etag: o.etag, size: o.data.length, mtime: o.mtime, headers: o.headers };
  }

  async delete(object: Pick<SourceObject, 'bucket' | 'key' | 'etag'>): Promise<void> {
    this.maybeFail('delete');
    const o = this.objects.get(`${object.bucket}/${object.key}`);
    if (o && o.etag !== object.etag) throw mapS3Error(sdkError.preconditionFailed(), 'edge', 'delete');
    this.objects.delete(`${object.bucket}/${object.key}`);
  }

  async checkBucket(): Promise<void> {
    this.maybeFail('list');
  }
}

export class FakeLake implements LakeStore {
  readonly bucket = 'lake';
  readonly objects = new Map<string, { data: Buffer; metadata: Record<string, string>; content: ContentHeaders }>();
  readonly uploads = new Map<
    string,
    { key: string; metadata: Record<string, string>; content: ContentHeaders; parts: Map<number, Buffer> }
  >();
  readonly failures = new Map<string, Failure>();
  readonly calls: string[] = [];
  /** The ETag the core reports for a key instead of its MD5 (as for a multipart upload, or SSE-KMS). */
  readonly etags = new Map<string, string>();
  private uploadCounter = 0;

  private etagOf(key: string, data: Buffer): string {
    return this.etags.get(key) ?? createHash('md5').update(data).digest('hex');
  }

  failNext(
    operation: 'put' | 'head' | 'list' | 'read' | 'uploadPart' | 'complete' | 'create' | 'probe' | 'delete',
    error: () => unknown,
    times = 1,
  ): void {
    this.failures.set(operation, { error, times });
  }

  private maybeFail(operation: string): void {
    this.calls.push(operation);
    const failure = this.failures.get(operation);
    if (failure && failure.times > 0) {
      failure.times -= 1;
      throw mapS3Error(failure.error(), 'core', operation);
    }
  }

  async head(key: string): Promise<LakeHead | undefined> {
    this.maybeFail('head');
    const o = this.objects.get(key);
    return o
      ? {
          size: o.data.length,
          etag: this.etagOf(key, o.data),
          metadata: o.metadata,
          content: o.content,
          etagFromMd5: true,
        }
      : undefined;
  }

  async list(prefix: string, startAfter: string | undefined, options: { pageSize?: number } = {}) {
    this.maybeFail('list');
    const pageSize = options.pageSize ?? 1000;
    const keys = [...this.objects.keys()]
      .filter((k) => k.startsWith(prefix) && (startAfter === undefined || Buffer.compare(Buffer.from(k), Buffer.from(startAfter)) > 0))
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const page = keys.slice(0, pageSize);
    return {
      objects: page.map((key) => {
        const data = this.objects.get(key)!.data;
        return { key, etag: this.etagOf(key, data), size: data.length };
      }),
      nextStartAfter: keys.length > pageSize ? page.at(-1) : undefined,
    };
  }

  async read(key: string) {
    this.maybeFail('read');
    const o = this.objects.get(key);
    if (!o) throw new Error(`no ${key}`);
    return { body: Readable.from([o.data]), size: o.data.length };
  }

  async put(key: string, body: Buffer | { stream: Readable; length: number }, options: LakeObjectOptions) {
    this.maybeFail('put');
    let data: Buffer;
    if (Buffer.isBuffer(body)) data = Buffer.from(body);
    else {
      const chunks: Buffer[] = [];
      for await (const chunk of body.stream) chunks.push(chunk as Buffer);
      data = Buffer.concat(chunks);
    }
    this.objects.set(key, { data, metadata: { ...options.metadata }, content: storedContent(options) });
    return { etag: createHash('md5').update(data).digest('hex'), etagFromMd5: true };
  }

  async createMultipart(key: string, options: LakeObjectOptions) {
    this.maybeFail('create');
    const id = `upload-${++this.uploadCounter}`;
    this.uploads.set(id, { key, metadata: { ...options.metadata }, content: storedContent(options), parts: new Map() });
    return id;
  }

  async uploadPart(_key: string, uploadId: string, partNumber: number, body: Buffer) {
    this.maybeFail('uploadPart');
    const upload = this.uploads.get(uploadId);
    if (!upload) throw mapS3Error(Object.assign(new Error('NoSuchUpload'), { name: 'NoSuchUpload' }), 'core', 'uploadPart');
    upload.parts.set(partNumber, Buffer.from(body));
    return { etag: createHash('md5').update(body).digest('hex'), etagFromMd5: true };
  }

  async completeMultipart(key: string, uploadId: string, parts: readonly { partNumber: number }[]) {
    this.maybeFail('complete');
    const upload = this.uploads.get(uploadId)!;
    const data = Buffer.concat(parts.map((p) => upload.parts.get(p.partNumber)!));
    this.objects.set(key, { data, metadata: upload.metadata, content: upload.content });
    this.uploads.delete(uploadId);
  }

  async delete(key: string) {
    this.maybeFail('delete');
    this.objects.delete(key);
  }

  async abortMultipart(_key: string, uploadId: string) {
    this.uploads.delete(uploadId);
  }

  async probe() {
    this.maybeFail('probe');
  }
}

/** SDK-shaped errors, as the S3 adapter receives them. */
export const sdkError = {
  network: () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
  slowDown: (retryAfter?: string) =>
    Object.assign(new Error('Please reduce your request rate.'), {
      name: 'SlowDown',
      $metadata: { httpStatusCode: 503 },
      $response: { statusCode: 503, headers: retryAfter ? { 'retry-after': retryAfter } : {} },
    }),
  internal: () =>
    Object.assign(new Error('We encountered an internal error.'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } }),
  accessDenied: () => Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }),
  preconditionFailed: () =>
    Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), {
      name: 'PreconditionFailed',
      $metadata: { httpStatusCode: 412 },
    }),
  noSuchKey: () => Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }),
  badSignature: () =>
    Object.assign(new Error('The request signature we calculated does not match'), {
      name: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403 },
    }),
};
