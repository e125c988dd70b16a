/**
 * `tributary demo`: everything on loopback, nothing to configure. Starts an edge and a core S3
 * server (s3rver) with their data in a temp folder, seeds realistic site data, replicates it
 * with the real pipeline (scan, journal, transfer, verify), and prints what landed where.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { stringify } from 'yaml';

import { formatBytes } from '../../core/units.js';
import { localS3Client, startLocalS3, type LocalS3 } from '../../demo/s3-server.js';
import { seedSiteData } from '../../demo/seed-site-data.js';
import type { Logger } from '../../observability/logger.js';
import { EXIT, type Output } from '../context.js';
import { syncOnce } from './sync.js';
import { verify } from './verify.js';

export interface DemoOptions {
  readonly keep: boolean;
  readonly signal: AbortSignal;
}

const BUCKETS = { telemetry: 'telemetry', pos: 'pos', media: 'media' };
const CORE_BUCKET = 'lake';

export async function runDemo(options: DemoOptions, output: Output, log: Logger): Promise<number> {
  const root = mkdtempSync(join(tmpdir(), 'tributary-demo-'));
  const servers: LocalS3[] = [];
  try {
    // s3rver maps keys to paths unsanitised: keep its folders nested deep inside the temp folder.
    const edge = await startLocalS3({ directory: join(root, 'servers', 'edge', 'data', 'store'), buckets: Object.values(BUCKETS) });
    servers.push(edge);
    const core = await startLocalS3({ directory: join(root, 'servers', 'core', 'data', 'store'), buckets: [CORE_BUCKET] });
    servers.push(core);
    output.out(`edge S3 (store-0042): ${edge.endpoint}   core S3 (data lake): ${core.endpoint}`);

    const seeded = await seedSiteData(localS3Client(edge), BUCKETS);
    const seededBytes = seeded.reduce((sum, o) => sum + o.size, 0);
    output.out(`seeded ${seeded.length} objects (${formatBytes(seededBytes)}): IoT telemetry JSON lines, POS receipts, camera footage`);

    const configFile = join(root, 'tributary.yaml');
    writeFileSync(
      configFile,
      stringify({
        site: 'store-0042',
        journal: join(root, 'journal'),
        edge: {
          endpoint: edge.endpoint,
          forcePathStyle: true,
          credentials: { accessKeyId: edge.accessKeyId, secretAccessKey: edge.secretAccessKey },
          buckets: [BUCKETS.telemetry, { name: BUCKETS.pos, prefix: 'receipts/' }, BUCKETS.media],
        },
        core: {
          endpoint: core.endpoint,
          forcePathStyle: true,
          credentials: { accessKeyId: core.accessKeyId, secretAccessKey: core.secretAccessKey },
          bucket: CORE_BUCKET,
          keyTemplate: '{site}/{bucket}/{key}',
        },
        rules: [
          { match: { bucket: BUCKETS.pos, prefix: 'receipts/' }, priority: 'critical' },
          { match: { bucket: BUCKETS.media }, priority: 'bulk' },
        ],
        // Low enough that the camera footage shows off resumable multipart uploads.
        transfer: { concurrency: 8, partSize: '8MiB', multipartThreshold: '16MiB' },
      }),
    );
    output.out(`config: ${configFile}\n`);

    const syncCode = await syncOnce(
      { configFile, interactive: process.stderr.isTTY, retryWindowMs: 60_000, maxOutageMs: 30_000, signal: options.signal },
      output,
      log,
    );

    output.out(`\nwhat landed in s3://${CORE_BUCKET}:`);
    const coreClient = localS3Client(core);
    const groups = new Map<string, { objects: number; bytes: number; example: string }>();
    let startAfter: string | undefined;
    do {
      const page = await coreClient.send(
        new ListObjectsV2Command({ Bucket: CORE_BUCKET, ...(startAfter ? { StartAfter: startAfter } : {}) }),
      );
      for (const item of page.Contents ?? []) {
        const key = item.Key ?? '';
        const group = key.split('/').slice(0, 3).join('/') + '/';
        const entry = groups.get(group) ?? { objects: 0, bytes: 0, example: key };
        entry.objects += 1;
        entry.bytes += item.Size ?? 0;
        groups.set(group, entry);
      }
      startAfter = page.IsTruncated ? page.Contents?.at(-1)?.Key : undefined;
    } while (startAfter);
    for (const [group, entry] of groups) {
      output.out(
        `  ${group.padEnd(34)} ${String(entry.objects).padStart(5)} objects ${formatBytes(entry.bytes).padStart(10)}   e.g. ${entry.example}`,
      );
    }
    output.out('');
    const verifyCode = await verify(configFile, { deep: false, json: false, retained: false }, output, log, options.signal);
    output.out(
      `\nEvery core object carries lineage metadata (x-amz-meta-tributary-site, -source-bucket, -source-key, -source-etag, -source-mtime, -sha256).`,
    );
    if (!options.keep) output.out('Run `npx tributary demo --keep` to keep the servers and try the other commands against them.');
    if (options.keep) {
      output.out(`\nservers keep running (Ctrl-C to stop). Try, in another terminal:`);
      output.out(`  npx tributary status -c ${configFile}\n  npx tributary agent -c ${configFile}`);
      await new Promise<void>((resolve) => options.signal.addEventListener('abort', () => resolve(), { once: true }));
    }
    return syncCode === EXIT.ok && verifyCode === EXIT.ok ? EXIT.ok : EXIT.incomplete;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    if (!options.keep) rmSync(root, { recursive: true, force: true });
  }
}
