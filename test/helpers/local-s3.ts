/**
 * Real S3 servers for tests: s3rver child processes on free loopback ports, their data nested
 * deep inside the test's temp folder (s3rver does not sanitise `..` in keys), each with its own
 * request log so tests can assert the exact wire sequence.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type HeadObjectCommandInput,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { BuildMiddleware, DeserializeMiddleware, MiddlewareStack } from '@smithy/types';

import { localS3Client, startLocalS3, type LocalS3 } from '../../src/demo/s3-server.js';

export interface TestS3 extends LocalS3 {
  readonly client: S3Client;
  readonly requestLogFile: string;
  requests(): { t: number; method: string; url: string; status: number; bytesIn: number; sse?: string; sseKmsKeyId?: string }[];
}

export async function startTestS3(
  t: { after(fn: () => Promise<void> | void): void },
  dir: string,
  name: string,
  buckets: readonly string[],
  credentials?: { accessKeyId: string; secretAccessKey: string },
  tls?: { key: string; cert: string; ca: string },
): Promise<TestS3> {
  const requestLogFile = join(dir, `${name}-requests.ndjson`);
  const server = await startLocalS3({
    directory: join(dir, name, 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7', 'd8', 'data'),
    buckets,
    requestLog: requestLogFile,
    ...(credentials ?? {}),
    ...(tls === undefined ? {} : { tls: { key: tls.key, cert: tls.cert } }),
  });
  t.after(() => server.stop());
  const client = localS3Client(server, 16);

  t.after(() => client.destroy());
  return {
    ...server,
    client,
    requestLogFile,
    requests() {
      if (!existsSync(requestLogFile)) return [];
      return readFileSync(requestLogFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(
          (line) =>
            JSON.parse(line) as {
              t: number;
              method: string;
              url: string;
              status: number;
              bytesIn: number;
              sse?: string;
              sseKmsKeyId?: string;
            },
        );
    },
  };
}

export async function putObject(s3: TestS3, bucket: string, key: string, body: Buffer | string): Promise<void> {
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ContentLength: data.length }));
}

export async function getObject(s3: TestS3, bucket: string, key: string): Promise<Buffer> {
  const response = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

/**
 * One read of a JSON object the agent keeps rewriting (its heartbeat), or undefined when this read
 * did not give a whole document. s3rver answers a PUT before the data is all on disk, so a read
 * may see a partial document; and a read racing the next PUT can hang, since s3rver takes
 * Content-Length from the old metadata and streams the file it is truncating: such a read is
 * given up after `timeoutMs`.
 */
export async function readJsonBeingRewritten(s3: TestS3, bucket: string, key: string, timeoutMs = 2000): Promise<unknown> {
  const read = getObject(s3, bucket, key);
  read.catch(() => {});
  const body = await Promise.race([read, sleep(timeoutMs).then(() => undefined)]).catch(() => undefined);
  if (body === undefined) return undefined;
  try {
    return JSON.parse(body.toString()) as unknown;
  } catch {
    return undefined;
  }
}

export async function headObject(s3: TestS3, bucket: string, key: string) {
  return s3.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
}

export async function listKeys(s3: TestS3, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let startAfter: string | undefined;
  for (;;) {
    const page = await s3.client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(startAfter ? { StartAfter: startAfter } : {}) }),
    );
    for (const item of page.Contents ?? []) keys.push(item.Key!);
    if (!page.IsTruncated) return keys;
    startAfter = page.Contents?.at(-1)?.Key;
  }
}

/** Request headers set exactly as given (the SDK re-formats some fields, such as Expires). */
function addRawHeaders<I extends object, O extends object>(stack: MiddlewareStack<I, O>, headers: Readonly<Record<string, string>>): void {
  const setHeaders: BuildMiddleware<I, O> = (next) => (args) => {
    Object.assign((args.request as { headers: Record<string, string> }).headers, headers);
    return next(args);
  };
  stack.add(setHeaders, { step: 'build', name: 'testRawHeaders' });
}

/** A PUT with these raw request headers (content headers, `x-amz-meta-*`) besides the body. */
export async function putObjectWithHeaders(
  s3: TestS3,
  bucket: string,
  key: string,
  body: Buffer | string,
  headers: Readonly<Record<string, string>>,
): Promise<void> {
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  const command = new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ContentLength: data.length });
  addRawHeaders(command.middlewareStack, headers);
  await s3.client.send(command);
}

/** Gives an object new headers and metadata in place (CopyObject onto itself, REPLACE): same bytes. */
export async function replaceObjectHeaders(
  s3: TestS3,
  bucket: string,
  key: string,
  headers: Readonly<Record<string, string>>,
): Promise<void> {
  const command = new CopyObjectCommand({
    Bucket: bucket,
    Key: key,
    CopySource: `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`,
    MetadataDirective: 'REPLACE',
  });
  addRawHeaders(command.middlewareStack, headers);
  await s3.client.send(command);
}

/** The headers of a HEAD's answer as the server sent them (lower-case names). */
export async function headRawHeaders(s3: TestS3, bucket: string, key: string): Promise<Record<string, string>> {
  let raw: Record<string, string> = {};
  const command = new HeadObjectCommand({ Bucket: bucket, Key: key });
  const capture: DeserializeMiddleware<HeadObjectCommandInput, HeadObjectCommandOutput> = (next) => async (args) => {
    const result = await next(args);
    raw = { ...(result.response as { headers: Record<string, string> }).headers };
    return result;
  };
  command.middlewareStack.add(capture, { step: 'deserialize', name: 'testResponseHeaders' });
  await s3.client.send(command);
  return raw;
}
