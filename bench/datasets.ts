/**
 * The benchmark's data sets, deterministic (same bytes on every run), generated lazily so that
 * even the large set never sits in memory whole; seeding them into an edge bucket; and listing
 * a bucket to check what landed.
 */
import { createCipheriv, createHash } from 'node:crypto';

import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

import { prng } from '../src/demo/seed-site-data.js';

export type DatasetId = 'a' | 'b' | 'c' | 'rss';
export const DATASET_IDS: readonly DatasetId[] = ['a', 'b', 'c', 'rss'];

export interface SeedObject {
  readonly key: string;
  readonly size: number;
  body(): Buffer;
}

export type TransferPath = 'buffered' | 'streamed' | 'multipart';

export interface Dataset {
  readonly id: DatasetId;
  readonly title: string;
  /** Edge bucket the objects are seeded into (the core bucket is always `lake`). */
  readonly bucket: string;
  /** Below Tributary's multipart threshold (one GET, one PUT) or above it (multipart). */
  /** Tributary's transfer path for these objects at the default thresholds (ADR 0002). */
  readonly path: TransferPath;
  readonly objects: readonly SeedObject[];
  readonly totalBytes: number;
  readonly seedConcurrency: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Incompressible, deterministic bytes: AES-128-CTR keystream for (stream, index). */
export function pseudoRandomBytes(stream: string, index: number, size: number): Buffer {
  const key = createHash('sha256').update(`tributary-bench/${stream}`).digest().subarray(0, 16);
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(index >>> 0, 0);
  return createCipheriv('aes-128-ctr', key, iv).update(Buffer.alloc(size));
}

/** Exactly `size` bytes of telemetry as JSON lines (the last line pads to the size). */
export function telemetryJsonLines(device: number, slot: number, size: number): Buffer {
  const random = prng(device * 100_003 + slot);
  const start = Date.UTC(2026, 10, 27, 8, 0, 0) + slot * 60_000;
  let text = '';
  for (let second = 0; ; second += 1) {
    const line = `${JSON.stringify({
      ts: new Date(start + second * 1000).toISOString(),
      device: `sensor-${pad(device, 3)}`,
      temperature_c: Math.round((18 + random() * 8) * 100) / 100,
      humidity_pct: Math.round((35 + random() * 20) * 10) / 10,
      vibration_mm_s: Math.round(random() * 400) / 100,
      status: random() < 0.98 ? 'ok' : 'warn',
    })}\n`;
    // Leave room for the padding line ({"pad":""}\n is 11 bytes).
    if (text.length + line.length > size - 16) break;
    text += line;
  }
  text += `{"pad":"${'x'.repeat(size - text.length - 11)}"}\n`;
  return Buffer.from(text, 'utf8');
}

/** A small JSON document of exactly `size` bytes. */
function tinyReading(index: number, size: number): Buffer {
  const head = `{"id":${index},"v":${(index * 7919) % 1000},"pad":"`;
  return Buffer.from(`${head}${'x'.repeat(Math.max(0, size - head.length - 3))}"}\n`, 'utf8');
}

export function buildDataset(id: DatasetId, quick: boolean): Dataset {
  const scale = quick ? 10 : 1;
  switch (id) {
    case 'a': {
      const count = 5000 / scale;
      const perDevice = 50;
      const objects = Array.from({ length: count }, (_, i): SeedObject => {
        const device = Math.floor(i / perDevice);
        const slot = i % perDevice;
        return {
          key: `sensors/sensor-${pad(device, 3)}/2026-11-27/${pad(slot, 4)}.jsonl`,
          size: 4 * KiB,
          body: () => telemetryJsonLines(device, slot, 4 * KiB),
        };
      });
      return dataset(id, `${count.toLocaleString('en-US')} × 4 KiB JSON-lines objects`, 'telemetry', 'buffered', objects, 16);
    }
    case 'b': {
      const count = 500 / scale;
      const random = prng(20261127);
      const objects = Array.from({ length: count }, (_, i): SeedObject => {
        // Log-uniform between 1 KiB and 2 MiB.
        const size = Math.round(KiB * Math.pow((2 * MiB) / KiB, random()));
        return {
          key: `mixed/batch-${pad(Math.floor(i / 25), 3)}/object-${pad(i, 4)}.bin`,
          size,
          body: () => pseudoRandomBytes('mixed', i, size),
        };
      });
      return dataset(id, `${count.toLocaleString('en-US')} mixed objects, 1 KiB to 2 MiB (log-uniform)`, 'mixed', 'buffered', objects, 16);
    }
    case 'c': {
      // --quick keeps the object size (so the same path is measured) and takes 1 of 8. 64 MiB is
      // not above the default multipartThreshold: these stream in one PUT after a hashing pass.
      const count = quick ? 1 : 8;
      const objects = Array.from({ length: count }, (_, i): SeedObject => ({
        key: `media/camera-${pad(i, 2)}/footage.bin`,
        size: 64 * MiB,
        body: () => pseudoRandomBytes('media', i, 64 * MiB),
      }));
      return dataset(id, `${count} × 64 MiB objects`, 'media', 'streamed', objects, 4);
    }
    case 'rss': {
      const count = 100_000 / scale;
      const objects = Array.from({ length: count }, (_, i): SeedObject => ({
        key: `tiny/${pad(Math.floor(i / 100), 4)}/reading-${pad(i, 6)}.json`,
        size: 100,
        body: () => tinyReading(i, 100),
      }));
      return dataset(id, `${count.toLocaleString('en-US')} × 100-byte objects (peak RSS of sync --once)`, 'tiny', 'buffered', objects, 64);
    }
  }
}

function dataset(
  id: DatasetId,
  title: string,
  bucket: string,
  path: Dataset['path'],
  objects: SeedObject[],
  seedConcurrency: number,
): Dataset {
  return { id, title, bucket, path, objects, totalBytes: objects.reduce((sum, o) => sum + o.size, 0), seedConcurrency };
}

/** PUTs every object of the data set with `concurrency` requests in flight. */
export async function seedBucket(client: S3Client, data: Dataset, onProgress: (done: number) => void, signal: AbortSignal): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      signal.throwIfAborted();
      const object = data.objects[next];
      next += 1;
      if (object === undefined) return;
      await client.send(new PutObjectCommand({ Bucket: data.bucket, Key: object.key, Body: object.body() }), { abortSignal: signal });
      done += 1;
      onProgress(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(data.seedConcurrency, data.objects.length) }, worker));
}

export interface Listing {
  readonly count: number;
  readonly bytes: number;
}

/** Counts the objects (and their bytes) under `prefix` in a bucket. */
export async function listBucket(client: S3Client, bucket: string, prefix: string): Promise<Listing> {
  let count = 0;
  let bytes = 0;
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        MaxKeys: 1000,
        ...(prefix ? { Prefix: prefix } : {}),
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    for (const item of page.Contents ?? []) {
      count += 1;
      bytes += item.Size ?? 0;
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return { count, bytes };
}

/**
 * Lists until the bucket shows the expected count and bytes, or `timeoutMs` passes: s3rver
 * answers a PUT before the data is fully on disk, so a listing right after can be short.
 */
export async function waitForListing(
  client: S3Client,
  bucket: string,
  prefix: string,
  expected: Listing,
  timeoutMs: number,
): Promise<Listing> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const listing = await listBucket(client, bucket, prefix);
    if ((listing.count === expected.count && listing.bytes === expected.bytes) || Date.now() > deadline) return listing;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
