/**
 * Realistic data for one edge site: IoT telemetry as JSON lines (many small objects, one per
 * device per interval), POS receipts (small JSON documents), and a few large files (camera
 * footage, a firmware image) big enough to travel as multipart uploads. Deterministic: the same
 * seed gives the same bytes, so runs can be compared.
 */
import { randomBytes } from 'node:crypto';

import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

import { forEachConcurrently } from '../core/for-each-concurrently.js';

export interface SeededObject {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
}

export interface SeedPlan {
  readonly devices: number;
  readonly intervals: number;
  readonly receipts: number;
  readonly largeFiles: number;
  readonly largeFileSize: number;
}

export const DEFAULT_SEED_PLAN: SeedPlan = { devices: 12, intervals: 10, receipts: 60, largeFiles: 3, largeFileSize: 24 * 1024 * 1024 };

/** A small deterministic PRNG (mulberry32) so seeded data is reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function telemetryLines(device: number, interval: number, random: () => number): string {
  const start = Date.UTC(2026, 10, 27, 8, 0, 0) + interval * 60_000;
  const lines: string[] = [];
  for (let second = 0; second < 60; second += 2) {
    lines.push(
      JSON.stringify({
        ts: new Date(start + second * 1000).toISOString(),
        device: `sensor-${String(device).padStart(3, '0')}`,
        temperature_c: Math.round((18 + random() * 8) * 100) / 100,
        humidity_pct: Math.round((35 + random() * 20) * 10) / 10,
        vibration_mm_s: Math.round(random() * 400) / 100,
        status: random() < 0.98 ? 'ok' : 'warn',
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

export function receipt(index: number, random: () => number): string {
  const items = Array.from({ length: 1 + Math.floor(random() * 6) }, (_, i) => ({
    sku: `SKU-${1000 + Math.floor(random() * 9000)}`,
    qty: 1 + Math.floor(random() * 3),
    unit_price: Math.round(random() * 5000) / 100,
    line: i + 1,
  }));
  const total = items.reduce((sum, item) => sum + item.qty * item.unit_price, 0);
  return JSON.stringify({
    receipt_id: `R-${String(index).padStart(6, '0')}`,
    register: `till-${1 + (index % 4)}`,
    at: new Date(Date.UTC(2026, 10, 27, 9, 0, 0) + index * 37_000).toISOString(),
    items,
    total: Math.round(total * 100) / 100,
    currency: 'EUR',
  });
}

export async function seedSiteData(
  client: S3Client,
  buckets: { readonly telemetry: string; readonly pos: string; readonly media: string },
  plan: SeedPlan = DEFAULT_SEED_PLAN,
): Promise<SeededObject[]> {
  const random = prng(42);
  const objects: { bucket: string; key: string; body: Buffer | string }[] = [];
  for (let interval = 0; interval < plan.intervals; interval += 1) {
    for (let device = 0; device < plan.devices; device += 1) {
      const minute = String(interval).padStart(2, '0');
      objects.push({
        bucket: buckets.telemetry,
        key: `line-1/sensor-${String(device).padStart(3, '0')}/2026-11-27T08-${minute}.jsonl`,
        body: telemetryLines(device, interval, random),
      });
    }
  }
  for (let index = 0; index < plan.receipts; index += 1) {
    objects.push({
      bucket: buckets.pos,
      key: `receipts/2026/11/27/R-${String(index).padStart(6, '0')}.json`,
      body: receipt(index, random),
    });
  }
  for (let index = 0; index < plan.largeFiles; index += 1) {
    objects.push({ bucket: buckets.media, key: `cameras/dock-${index + 1}/2026-11-27T08-00.mp4`, body: randomBytes(plan.largeFileSize) });
  }
  const seeded: SeededObject[] = [];
  await forEachConcurrently(objects, 8, async (object) => {
    const body = typeof object.body === 'string' ? Buffer.from(object.body) : object.body;
    await client.send(new PutObjectCommand({ Bucket: object.bucket, Key: object.key, Body: body, ContentLength: body.length }));
    seeded.push({ bucket: object.bucket, key: object.key, size: body.length });
  });
  return seeded;
}
