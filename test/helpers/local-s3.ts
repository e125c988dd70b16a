/**
 * Real S3 servers for tests: s3rver child processes on free loopback ports, their data nested
 * deep inside the test's temp folder (s3rver does not sanitise `..` in keys), each with its own
 * request log so tests can assert the exact wire sequence.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

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
