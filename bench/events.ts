/**
 * The event path's benchmark: objects arrive at the edge at a steady rate, each announced by an
 * S3 event to the agent's POST /events; the time from the edge PUT to the core PUT is read from
 * both servers' request logs (no polling that would load the servers). The same workload with
 * scans only (every 60 s) for comparison. Then the largest event rate the endpoint absorbs:
 * batches of records POSTed as fast as it answers, with transfers held back (the edge is
 * unreachable) so that only the intake is measured.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { PutObjectCommand } from '@aws-sdk/client-s3';
import { stringify } from 'yaml';

import { localS3Client, startLocalS3, type LocalS3 } from '../src/demo/s3-server.js';

export interface LatencyResult {
  readonly mode: 'events' | 'scans';
  readonly objects: number;
  readonly landed: number;
  readonly p50Seconds: number;
  readonly p99Seconds: number;
  readonly maxSeconds: number;
}

export interface EventRateResult {
  readonly recordsPerRequest: number;
  readonly requests: number;
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
}

export interface EventsBenchResult {
  readonly ratePerSecond: number;
  readonly durationSeconds: number;
  readonly latency: LatencyResult[];
  readonly intake: EventRateResult[];
}

const BUCKET = 'edge';
const SITE = 'bench-site';

function requestLog(file: string): { t: number; method: string; url: string; status: number }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { t: number; method: string; url: string; status: number });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function startAgent(cli: string, config: string): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(process.execPath, [cli, 'agent', '-c', config, '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const line = stderr.split('\n').find((l) => l.includes('"msg":"http listening"'));
    if (line) return { child, address: (JSON.parse(line) as { address: string }).address };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`agent did not start: ${stderr.slice(-2000)}`);
    await sleep(50);
  }
}

async function stopAgent(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function writeConfig(dir: string, name: string, edge: { endpoint: string }, core: LocalS3, scanInterval: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({
      site: SITE,
      journal: join(dir, `journal-${name}`),
      edge: {
        endpoint: edge.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        buckets: [BUCKET],
        requestTimeout: '5s',
        maxAttempts: 1,
      },
      core: {
        endpoint: core.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        bucket: 'lake',
      },
      transfer: { concurrency: 16 },
      scan: { interval: scanInterval },
      http: { listen: '127.0.0.1:0' },
    }),
  );
  return file;
}

async function latencyRun(
  mode: 'events' | 'scans',
  dir: string,
  cli: string,
  rate: number,
  seconds: number,
  log: (line: string) => void,
  signal: AbortSignal,
): Promise<LatencyResult> {
  const edgeLog = join(dir, `${mode}-edge.ndjson`);
  const coreLog = join(dir, `${mode}-core.ndjson`);
  const edge = await startLocalS3({ directory: join(dir, mode, 'edge', 'data', 'store'), buckets: [BUCKET], requestLog: edgeLog });
  const core = await startLocalS3({ directory: join(dir, mode, 'core', 'data', 'store'), buckets: ['lake'], requestLog: coreLog });
  const client = localS3Client(edge, 16);
  const config = writeConfig(dir, mode, edge, core, mode === 'events' ? '1h' : '60s');
  const agent = await startAgent(cli, config);
  try {
    await sleep(1000); // the startup scan of an empty bucket
    const count = rate * seconds;
    const started = Date.now();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < count; i += 1) {
      signal.throwIfAborted();
      const due = started + (i * 1000) / rate;
      if (due > Date.now()) await sleep(due - Date.now());
      const key = `arrivals/${String(i).padStart(6, '0')}.json`;
      const body = Buffer.from(`${JSON.stringify({ i, at: new Date().toISOString() })}\n`.padEnd(4096, ' '));
      pending.push(
        (async () => {
          await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentLength: body.length }));
          if (mode !== 'events') return;
          const record = {
            eventSource: 'minio:s3',
            eventName: 's3:ObjectCreated:Put',
            eventTime: new Date().toISOString(),
            s3: {
              bucket: { name: BUCKET },
              object: { key: encodeURIComponent(key), size: body.length, eTag: createHash('md5').update(body).digest('hex') },
            },
          };
          const response = await fetch(`http://${agent.address}/events`, { method: 'POST', body: JSON.stringify({ Records: [record] }) });
          await response.text();
        })(),
      );
    }
    await Promise.all(pending);
    log(`  ${mode}: ${count} objects put at ${rate}/s; waiting for them to land`);
    const deadline = Date.now() + (mode === 'scans' ? 150_000 : 60_000);
    let landedCount = 0;
    while (Date.now() < deadline) {
      landedCount = requestLog(coreLog).filter(
        (r) => r.method === 'PUT' && r.url.includes(`/${SITE}/${BUCKET}/arrivals/`) && r.status === 200,
      ).length;
      if (landedCount >= count) break;
      await sleep(500);
    }
    const putAt = new Map<string, number>();
    for (const r of requestLog(edgeLog))
      if (r.method === 'PUT' && r.status === 200) putAt.set(decodeURIComponent(r.url.split('?')[0]!.replace(`/${BUCKET}/`, '')), r.t);
    const lags: number[] = [];
    for (const r of requestLog(coreLog)) {
      if (r.method !== 'PUT' || r.status !== 200 || !r.url.includes(`/${SITE}/${BUCKET}/`)) continue;
      const key = decodeURIComponent(r.url.split('?')[0]!.replace(`/lake/${SITE}/${BUCKET}/`, ''));
      const at = putAt.get(key);
      if (at !== undefined) lags.push((r.t - at) / 1000);
    }
    lags.sort((a, b) => a - b);
    return {
      mode,
      objects: count,
      landed: lags.length,
      p50Seconds: percentile(lags, 50),
      p99Seconds: percentile(lags, 99),
      maxSeconds: lags.at(-1) ?? NaN,
    };
  } finally {
    await stopAgent(agent.child);
    client.destroy();
    await Promise.all([edge.stop(), core.stop()]);
  }
}

async function intakeRun(dir: string, cli: string, signal: AbortSignal): Promise<EventRateResult[]> {
  const core = await startLocalS3({ directory: join(dir, 'intake', 'core', 'data', 'store'), buckets: ['lake'] });
  // The edge is unreachable on purpose: transfers wait, only the intake works.
  const config = writeConfig(dir, 'intake', { endpoint: 'http://127.0.0.1:9' }, core, '1h');
  const agent = await startAgent(cli, config);
  const results: EventRateResult[] = [];
  try {
    let serial = 0;
    for (const [recordsPerRequest, requests, clients] of [
      [1, 4000, 16],
      [100, 400, 4],
      [1000, 60, 2],
    ] as const) {
      signal.throwIfAborted();
      const bodies = Array.from({ length: requests }, () =>
        JSON.stringify({
          Records: Array.from({ length: recordsPerRequest }, () => {
            serial += 1;
            return {
              eventSource: 'aws:s3',
              eventName: 'ObjectCreated:Put',
              eventTime: new Date().toISOString(),
              s3: {
                bucket: { name: BUCKET },
                object: { key: `burst/${serial}.json`, size: 100, eTag: createHash('md5').update(String(serial)).digest('hex') },
              },
            };
          }),
        }),
      );
      let next = 0;
      let accepted = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (next < bodies.length) {
            const body = bodies[next++]!;
            const response = await fetch(`http://${agent.address}/events`, { method: 'POST', body });
            const answer = (await response.json()) as { accepted?: number };
            if (response.status !== 200) throw new Error(`POST /events answered ${response.status}`);
            accepted += answer.accepted ?? 0;
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      if (accepted !== requests * recordsPerRequest) throw new Error(`accepted ${accepted} of ${requests * recordsPerRequest} records`);
      results.push({ recordsPerRequest, requests, records: accepted, seconds, recordsPerSecond: accepted / seconds });
    }
  } finally {
    await stopAgent(agent.child);
    await core.stop();
  }
  return results;
}

export async function runEventsBench(
  dir: string,
  cli: string,
  quick: boolean,
  log: (line: string) => void,
  signal: AbortSignal,
): Promise<EventsBenchResult> {
  const rate = 50;
  const seconds = quick ? 6 : 30;
  log(
    `\n== (events) ${rate} objects/s for ${seconds} s announced by events, then the same with scans only (60 s interval), then the event intake rate`,
  );
  const events = await latencyRun('events', dir, cli, rate, seconds, log, signal);
  const scans = await latencyRun('scans', dir, cli, rate, seconds, log, signal);
  const intake = await intakeRun(dir, cli, signal);
  return { ratePerSecond: rate, durationSeconds: seconds, latency: [events, scans], intake };
}

export function formatEvents(result: EventsBenchResult): string {
  const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const lines = [
    `(events) ${result.ratePerSecond} objects/s for ${result.durationSeconds} s, 4 KiB each; time from the edge PUT to the core PUT (server request logs):`,
    'mode     objects  landed  p50 s   p99 s   max s',
    ...result.latency.map(
      (l) =>
        `${l.mode.padEnd(8)} ${String(l.objects).padStart(7)} ${String(l.landed).padStart(7)}  ${f(l.p50Seconds).padStart(6)}  ${f(l.p99Seconds).padStart(6)}  ${f(l.maxSeconds).padStart(6)}`,
    ),
    'event intake (records journaled and acknowledged; transfers held back):',
    'records/request  requests  records  seconds  records/s',
    ...result.intake.map(
      (r) =>
        `${String(r.recordsPerRequest).padStart(15)}  ${String(r.requests).padStart(8)}  ${String(r.records).padStart(7)}  ${f(r.seconds).padStart(7)}  ${f(r.recordsPerSecond, 0).padStart(9)}`,
    ),
  ];
  const events = result.latency.find((l) => l.mode === 'events');
  if (events) lines.push(`  ${events.p99Seconds <= 1 ? 'PASS' : 'FAIL'}   p99 with events at most 1 s: ${f(events.p99Seconds)} s`);
  return lines.join('\n');
}
