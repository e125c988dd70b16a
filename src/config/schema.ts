/**
 * The one schema of the config file (see docs/config.md, generated from the descriptions here).
 * Field names are a contract with users and their tooling: add fields, never rename them.
 * Every object is strict (unknown keys are errors) and every error names the field's path.
 */
import { z } from 'zod';

import { validateKeyTemplate } from '../core/core-key.js';
import { parseDuration, parseRate, parseSize } from '../core/units.js';

/** How a value looked, for messages: `"lots"`, `-1`, `an object`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  return `an ${typeof value}`;
}

const required = (what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? 'required' : `expected ${what}, got ${describeValue(issue.input)}`;

const str = (what = 'a string') => z.string({ error: required(what) });

/** A value checked by a parser: the parser's undefined becomes "expected <what>, got <input>". */
function parsed<T>(what: string, parse: (input: unknown) => T | undefined) {
  return z.unknown().transform((input, ctx): T => {
    const value = input === undefined ? undefined : parse(input);
    if (value === undefined) {
      ctx.addIssue({ code: 'custom', message: required(what)({ input }) });
      return z.NEVER;
    }
    return value;
  });
}

const positiveInt = parsed('a positive integer', (v) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined,
);
const size = (what = 'a size such as 16MiB') =>
  parsed(what, (v) => (typeof v === 'string' || typeof v === 'number' ? parseSize(v) : undefined));
const duration = parsed('a duration such as 60s, 5m or 1h', (v) =>
  typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : undefined,
);
const rate = parsed('a rate such as 2MiB/s or unlimited', (v) =>
  typeof v === 'string' || typeof v === 'number' ? parseRate(v) : undefined,
);
const bool = z.boolean({ error: required('true or false') });

const endpoint = str('a URL such as http://127.0.0.1:9000').refine(
  (value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  },
  { message: 'expected an http:// or https:// URL' },
);

const credentials = z
  .strictObject({
    accessKeyId: str(),
    secretAccessKey: str(),
    sessionToken: str().optional(),
  })
  .describe('Static credentials; when absent, the standard AWS credential chain is used.');

const checksums = z
  .enum(['when_required', 'when_supported'], { error: required('when_required or when_supported') })
  .describe(
    'When the AWS SDK adds its own CRC checksums. when_required (default) works with every S3-compatible server; when_supported suits AWS S3.',
  );

const endpointFields = {
  endpoint: endpoint.optional().describe('S3 endpoint URL; omit for AWS S3.'),
  region: str().default('us-east-1'),
  credentials: credentials.optional(),
  checksums: checksums.default('when_required'),
  requestTimeout: duration.default(60_000).describe('Abort a request that makes no progress for this long.'),
  maxAttempts: positiveInt.default(3).describe('Attempts the SDK makes for one request before the object is retried later.'),
};

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const bucketName = str('a bucket name').refine((v) => BUCKET_NAME.test(v), {
  message: 'expected an S3 bucket name (3-63 characters of a-z, 0-9, ".", "-")',
});

const edgeBucket = z.union([bucketName, z.strictObject({ name: bucketName, prefix: str().default('') })], {
  error: (issue) => `expected a bucket name or { name, prefix }, got ${describeValue(issue.input)}`,
});

export const PRIORITIES = ['critical', 'high', 'normal', 'bulk'] as const;
export type Priority = (typeof PRIORITIES)[number];

const rule = z.strictObject({
  match: z
    .strictObject({
      bucket: str().optional(),
      prefix: str().optional(),
      suffix: str().optional(),
    })
    .default({}),
  priority: z.enum(PRIORITIES, { error: required('one of critical, high, normal, bulk') }).optional(),
  exclude: bool.optional(),
  compress: z.enum(['zstd', 'gzip', 'none'], { error: required('zstd, gzip or none') }).optional(),
});

const bandwidthWindow = z.strictObject({
  window: str('a window such as "Mon-Fri 08:00-18:00"').optional(),
  limit: rate,
});

export const configSchema = z
  .strictObject({
    site: str('a site name').refine((v) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(v), {
      message: 'expected a site name of a-z, 0-9 and "-" (at most 63, not starting or ending with "-")',
    }),
    journal: str().default('./tributary-data').describe('Folder for the SQLite journal and local state.'),
    edge: z.strictObject({
      ...endpointFields,
      forcePathStyle: bool.default(true),
      buckets: z
        .array(edgeBucket, { error: required('a list of buckets') })
        .min(1, { message: 'expected at least one bucket' }),
    }),
    core: z.strictObject({
      ...endpointFields,
      forcePathStyle: bool.default(false),
      bucket: bucketName,
      keyTemplate: str().default('{site}/{bucket}/{key}'),
    }),
    rules: z.array(rule, { error: required('a list of rules') }).default([]),
    transfer: z
      .strictObject({
        concurrency: positiveInt.default(8),
        partSize: size().default(16 * 1024 * 1024),
        multipartThreshold: size().optional().describe('Objects at least this large use multipart; default partSize.'),
        memoryLimit: size()
          .default(96 * 1024 * 1024)
          .describe('Bytes of object data buffered at once across all transfers.'),
        maxAttempts: positiveInt.default(10).describe('Attempts before an object is dead.'),
        retryBase: duration.default(2000),
        retryCap: duration.default(15 * 60_000),
        headBeforePut: z
          .enum(['auto', 'always', 'never'], { error: required('auto, always or never') })
          .default('auto')
          .describe('HEAD the core key before uploading: auto does so only for retried objects.'),
      })
      .prefault({}),
    bandwidth: z.array(bandwidthWindow, { error: required('a list of windows') }).default([]),
    scan: z
      .strictObject({
        interval: duration.default(60_000),
        pageSize: positiveInt.default(1000),
      })
      .prefault({}),
    deletes: z.enum(['ignore', 'propagate'], { error: required('ignore or propagate') }).default('ignore'),
    http: z
      .strictObject({
        listen: str().default('127.0.0.1:9464'),
        token: str().optional(),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    for (const problem of validateKeyTemplate(config.core.keyTemplate, config.edge.buckets.length)) {
      ctx.addIssue({ code: 'custom', path: ['core', 'keyTemplate'], message: problem });
    }
    if (config.transfer.partSize < 5 * 1024 * 1024) {
      ctx.addIssue({ code: 'custom', path: ['transfer', 'partSize'], message: 'must be at least 5MiB (the S3 minimum part size)' });
    }
    if (config.transfer.partSize > 5 * 1024 ** 3) {
      ctx.addIssue({ code: 'custom', path: ['transfer', 'partSize'], message: 'must be at most 5GiB (the S3 maximum part size)' });
    }
    if (config.transfer.memoryLimit < config.transfer.partSize) {
      ctx.addIssue({ code: 'custom', path: ['transfer', 'memoryLimit'], message: 'must be at least transfer.partSize' });
    }
  });

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;

export interface EdgeBucketConfig {
  readonly name: string;
  readonly prefix: string;
}

/** The validated, normalised, frozen config every component receives slices of. */
export type Config = Readonly<
  Omit<ParsedConfig, 'edge' | 'transfer'> & {
    edge: Omit<ParsedConfig['edge'], 'buckets'> & { buckets: readonly EdgeBucketConfig[] };
    transfer: ParsedConfig['transfer'] & { multipartThreshold: number };
  }
>;
