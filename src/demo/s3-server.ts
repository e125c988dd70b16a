/**
 * Starts and stops an s3rver child process on a free loopback port. Used by `tributary demo`,
 * by the test suite and by the benchmarks, so that all three run against the same server setup.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import type { S3Client } from '@aws-sdk/client-s3';

import { createS3Client } from '../s3/create-client.js';

export interface LocalS3Options {
  /** Folder s3rver keeps its data in. Keep it nested deep: s3rver does not sanitise `..` in keys. */
  readonly directory: string;
  readonly buckets?: readonly string[];
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  /** When set, every request is appended to this file as NDJSON. */
  readonly requestLog?: string;
  readonly port?: number;
  /** PEM files: serve https instead of http. */
  readonly tls?: { readonly key: string; readonly cert: string };
}

export interface LocalS3 {
  readonly endpoint: string;
  readonly port: number;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

const childScript = fileURLToPath(new URL('./s3rver-child.mjs', import.meta.url));

export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  mkdirSync(options.directory, { recursive: true });
  const child = spawn(process.execPath, ['--openssl-legacy-provider', childScript, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`s3rver exited before it was ready (exit code ${String(code)})`);
  });
  const firstLine = (async () => {
    for await (const line of lines) return line;
    throw new Error('s3rver closed its output before it was ready');
  })();
  const line = await Promise.race([firstLine, exited]);
  exited.catch(() => undefined);
  const { port } = JSON.parse(line) as { port: number };
  let stopped = false;
  return {
    endpoint: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    accessKeyId: options.accessKeyId ?? 'S3RVER',
    secretAccessKey: options.secretAccessKey ?? 'S3RVER',
    process: child,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(timer);
    },
  };
}

/** An SDK client for a local server (seeding, listing what landed, tests). */
export function localS3Client(
  server: Pick<LocalS3, 'endpoint' | 'accessKeyId' | 'secretAccessKey'>,
  sockets = 16,
  requestTimeout = 30_000,
): S3Client {
  return createS3Client(
    {
      endpoint: server.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      checksums: 'when_required',
      requestTimeout,
      maxAttempts: 3,
    },
    sockets,
  );
}
