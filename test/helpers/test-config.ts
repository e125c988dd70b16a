import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { stringify } from 'yaml';

import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';

import type { TestS3 } from './local-s3.js';

export interface TestConfigOptions {
  readonly site?: string;
  readonly buckets?: readonly (string | { name: string; prefix: string })[];
  readonly coreBucket?: string;
  readonly extra?: Record<string, unknown>;
  readonly edgeCredentials?: { accessKeyId: string; secretAccessKey: string };
  readonly coreCredentials?: { accessKeyId: string; secretAccessKey: string };
  readonly file?: string;
}

/** The YAML document of a config for an edge and a core test server. */
export function testConfigDocument(dir: string, edge: TestS3, core: TestS3, options: TestConfigOptions = {}): Record<string, unknown> {
  const extra = options.extra ?? {};
  return {
    site: options.site ?? 'site-a',
    journal: join(dir, 'journal'),
    edge: {
      endpoint: edge.endpoint,
      forcePathStyle: true,
      credentials: options.edgeCredentials ?? { accessKeyId: edge.accessKeyId, secretAccessKey: edge.secretAccessKey },
      buckets: options.buckets ?? ['edge'],
      requestTimeout: '10s',
      ...(extra['edge'] ?? {}),
    },
    core: {
      endpoint: core.endpoint,
      forcePathStyle: true,
      credentials: options.coreCredentials ?? { accessKeyId: core.accessKeyId, secretAccessKey: core.secretAccessKey },
      bucket: options.coreBucket ?? 'lake',
      requestTimeout: '10s',
      ...(extra['core'] ?? {}),
    },
    transfer: { concurrency: 4, retryBase: '100ms', retryCap: '1s', ...(extra['transfer'] ?? {}) },
    // Port 0: tests run in parallel, each agent gets a free port (logged as "http listening").
    http: { listen: '127.0.0.1:0', ...(extra['http'] ?? {}) },
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => !['edge', 'core', 'transfer', 'http'].includes(k))),
  };
}

export function writeTestConfig(dir: string, edge: TestS3, core: TestS3, options: TestConfigOptions = {}): string {
  const file = options.file ?? join(dir, 'tributary.yaml');
  writeFileSync(file, stringify(testConfigDocument(dir, edge, core, options)));
  return file;
}

/** A config for an agent built on the fakes (FakeSource, FakeLake): endpoints that are never dialled. */
export function configForFakes(dir: string, extra: Record<string, unknown> = {}): Config {
  return parseConfig({
    site: 'site-a',
    journal: join(dir, 'journal'),
    edge: { endpoint: 'http://127.0.0.1:1', buckets: ['edge'] },
    core: { endpoint: 'http://127.0.0.1:2', bucket: 'lake' },
    ...extra,
  });
}
