/**
 * The chaos tests' world (test/e2e/chaos*.test.ts): an edge and a core s3rver behind fault-injecting
 * proxies, seeded objects with their SHA-256, and an agent SIGKILLed at random moments.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestContext } from 'node:test';

import { stringify } from 'yaml';

import { forEachConcurrently } from '../../src/core/for-each-concurrently.js';
import { killIfRunning, spawnCli } from './cli.js';
import { startFaultProxy, type FaultProxy, type FaultRates } from './fault-proxy.js';
import { putObject, startTestS3, type TestS3 } from './local-s3.js';
import { tempDir } from './temp-dir.js';
import { testConfigDocument } from './test-config.js';

export const RATES: FaultRates = { reset: 0.02, error500: 0.02, slowDown: 0.02, stall: 0.01, slow: 0.01, truncate: 0.05 };
export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Keys of a chaos run: the first `large` are multipart-sized. */
export function chaosKeys(count: number, large: number, prefix = ''): string[] {
  return Array.from({ length: count }, (_, i) =>
    i < large ? `${prefix}large/${i}.bin` : `${prefix}small/${String(i % 40).padStart(2, '0')}/${i}.json`,
  );
}

/** Writes random bodies under `keys` (16 at a time), recording each SHA-256 in `hashes`. */
export async function seed(edge: TestS3, keys: readonly string[], large: number, hashes: Map<string, string>): Promise<void> {
  await forEachConcurrently(keys, 16, async (key, i) => {
    const body = i < large ? randomBytes(6 * 1024 * 1024 + i * 123_457) : randomBytes(100 + ((i * 7919) % 8000));
    hashes.set(key, sha256(body));
    await putObject(edge, 'edge', key, body);
  });
}

/** Starts the agent and SIGKILLs it at a random moment, `kills` times; `afterEach` runs after each kill. */
export async function killRepeatedly(
  t: TestContext,
  config: string,
  kills: number,
  afterEach: (kill: number) => void | Promise<void>,
): Promise<void> {
  for (let kill = 0; kill < kills; kill += 1) {
    const agent = spawnCli(['agent', '-c', config]);
    t.after(() => killIfRunning(agent));
    await sleep(400 + Math.random() * 2500);
    agent.child.kill('SIGKILL');
    await agent.done;
    await afterEach(kill);
  }
}

export interface ChaosWorld {
  readonly dir: string;
  readonly edge: TestS3;
  readonly core: TestS3;
  readonly edgeProxy: FaultProxy;
  readonly coreProxy: FaultProxy;
}

/** An edge and a core s3rver, each behind a fault proxy injecting RATES. */
export async function chaosWorld(t: TestContext): Promise<ChaosWorld> {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const edgeProxy = await startFaultProxy(edge.port, RATES);
  const coreProxy = await startFaultProxy(core.port, RATES);
  t.after(() => Promise.all([edgeProxy.close(), coreProxy.close()]));
  return { dir, edge, core, edgeProxy, coreProxy };
}

/** The agent's config for a chaos world (both endpoints through their proxies); returns its path. */
export function writeChaosConfig(world: ChaosWorld, extra: Record<string, unknown>): string {
  const doc = testConfigDocument(world.dir, world.edge, world.core, {
    extra: {
      transfer: { concurrency: 8, partSize: '5MiB', multipartThreshold: '5MiB', retryBase: '50ms', retryCap: '500ms', maxAttempts: 25 },
      edge: { requestTimeout: '3s' },
      core: { requestTimeout: '3s' },
      ...extra,
    },
  });
  (doc['edge'] as Record<string, unknown>)['endpoint'] = world.edgeProxy.endpoint;
  (doc['core'] as Record<string, unknown>)['endpoint'] = world.coreProxy.endpoint;
  const config = join(world.dir, 'tributary.yaml');
  writeFileSync(config, stringify(doc));
  return config;
}
