/**
 * The one schema of the config file (see docs/config.md, generated from the descriptions here).
 * Field names are a contract with users and their tooling: add fields, never rename them.
 * Every object is strict (unknown keys are errors) and every error names the field's path.
 */
import { z } from 'zod';

import { validateKeyTemplate } from '../core/core-key.js';
import { parseListen } from '../core/listen-address.js';
import { parseTimeWindow } from '../core/time-window.js';
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

/**
 * A strict object: unknown keys are errors, and a missing or non-object value reads
 * `edge: required` / `edge: expected a mapping of fields, got "x"` (zod's own message says neither).
 */
function obj<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'invalid_type' ? required('a mapping of fields')(issue) : undefined),
  });
}

/** A kind of value the config writes in human units; docs/config.md is generated from these. */
export type ValueKind = 'positive integer' | 'size' | 'duration' | 'rate';

/** The kind of each parsed (unit-bearing) value schema, for the config documentation generator. */
export const valueKinds = z.registry<{ kind: ValueKind }>();

/** A value checked by a parser: the parser's undefined becomes "expected <what>, got <input>". */
function parsed<T>(kind: ValueKind, what: string, parse: (input: unknown) => T | undefined) {
  return z
    .unknown()
    .transform((input, ctx): T => {
      const value = input === undefined ? undefined : parse(input);
      if (value === undefined) {
        ctx.addIssue({ code: 'custom', message: required(what)({ input }) });
        return z.NEVER;
      }
      return value;
    })
    .register(valueKinds, { kind });
}

// Digit strings are accepted too: a value substituted from `${VAR}` is always text.
const positiveInt = parsed('positive integer', 'a positive integer', (v) => {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : undefined;
});
const size = (what = 'a size such as 16MiB') =>
  parsed('size', what, (v) => (typeof v === 'string' || typeof v === 'number' ? parseSize(v) : undefined));
const duration = parsed('duration', 'a duration such as 60s, 5m or 1h', (v) =>
  typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : undefined,
);
const rate = parsed('rate', 'a rate such as 2MiB/s or unlimited', (v) =>
  typeof v === 'string' || typeof v === 'number' ? parseRate(v) : undefined,
);
/** Node's timers take at most 2^31-1 ms (about 24.8 days): a longer delay fires at once, in a loop. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A delay the agent waits with a timer: from `minMs` up to what a timer can hold. */
const timerDuration = (minMs: number, minText: string) =>
  duration.refine((v) => v >= minMs && v <= MAX_TIMER_MS, { error: `must be from ${minText} to 24d` });

/** A retention period: a duration, or `never` (null). */
const retentionPeriod = parsed('duration', 'a duration such as 7d, or never', (v): number | null | undefined =>
  v === 'never' ? null : typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : undefined,
);
const bool = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean({ error: required('true or false') }));

/** A refinement's message with the offending value: `expected ..., got "Store_1"`. */
const got = (what: string) => ({ error: (issue: { input?: unknown }) => `expected ${what}, got ${describeValue(issue.input)}` });

const endpoint = str('a URL such as http://127.0.0.1:9000')
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  }, got('an http:// or https:// URL'))
  // S3 signs requests with the credentials fields; a user:password in the URL would only be printed.
  .refine((value) => !URL.canParse(value) || (new URL(value).username === '' && new URL(value).password === ''), {
    error: 'must not carry a user or password: put the keys under credentials',
  });

const credentials = obj({
  accessKeyId: str().describe('Access key ID, usually `${VAR}` from the environment. Redacted wherever the config is printed.'),
  secretAccessKey: str().describe('Secret access key, usually `${VAR}` from the environment. Redacted wherever the config is printed.'),
  sessionToken: str().optional().describe('Session token of temporary credentials. Redacted wherever the config is printed.'),
}).describe('Static credentials; when absent, the standard AWS credential chain is used.');

const checksums = z
  .enum(['when_required', 'when_supported'], { error: required('when_required or when_supported') })
  .describe(
    "When the AWS SDK adds its own CRC checksums to the core's multipart uploads (the only writes made through the SDK; single PUTs, manifests and heartbeats carry Content-MD5). when_required (default) works with every S3-compatible server; when_supported suits AWS S3.",
  );

const endpointFields = {
  endpoint: endpoint.optional().describe('S3 endpoint URL, http:// or https://; omit for AWS S3.'),
  region: str().default('us-east-1').describe('Region the requests are signed for.'),
  credentials: credentials.optional(),
  checksums: checksums.default('when_required'),
  requestTimeout: timerDuration(100, '100ms').default(60_000).describe('Abort a request that makes no progress for this long.'),
  caBundle: str()
    .optional()
    .describe(
      "A PEM file of certificate authorities to trust for this https endpoint, on top of the system ones (a relative path is relative to the config file's folder). Certificates are always verified. On an http:// endpoint it is ignored, with a warning.",
    ),
  maxAttempts: positiveInt.default(3).describe('Attempts the SDK makes for one request before the object is retried later.'),
};

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const bucketName = str('a bucket name').refine(
  (v) => BUCKET_NAME.test(v) && !v.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(v),
  got('an S3 bucket name (3-63 characters of a-z, 0-9, ".", "-"; no "..", not an IP address)'),
);

const edgeBucket = z.union(
  [
    bucketName,
    obj({
      name: bucketName.describe('Bucket name.'),
      prefix: str().default('').describe('Replicate only keys that start with this prefix; empty means every key.'),
    }),
  ],
  { error: (issue) => `expected a bucket name or { name, prefix }, got ${describeValue(issue.input)}` },
);

export const PRIORITIES = ['critical', 'high', 'normal', 'bulk'] as const;
export type Priority = (typeof PRIORITIES)[number];

const rule = obj({
  match: obj({
    bucket: str().optional().describe('The edge bucket is exactly this one.'),
    prefix: str().optional().describe('The key starts with this.'),
    suffix: str().optional().describe('The key ends with this.'),
  })
    .default({})
    .describe('Conditions an object must all meet; an empty or absent match matches every object.'),
  priority: z
    .enum(PRIORITIES, { error: required('one of critical, high, normal, bulk') })
    .optional()
    .describe('Priority class of matching objects; higher classes are transferred first. Unmatched objects are normal.'),
  exclude: bool.optional().describe('true: matching objects are not replicated.'),
  compress: z
    .enum(['zstd', 'gzip', 'none'], { error: required('zstd, gzip or none') })
    // A config must not promise savings that do not happen: refused until compression lands.
    .refine((codec) => codec === 'none', {
      error: (issue) =>
        `${describeValue(issue.input)} is refused: this version of Tributary lands objects as they are; remove it or set none`,
    })
    .optional()
    .describe(
      'Compression of matching objects in the core. This version lands every object as it is: only `none` is accepted; `zstd` and `gzip` are refused.',
    ),
  retention: obj({
    deleteFromEdgeAfter: retentionPeriod.describe('This period instead of the global `retention.deleteFromEdgeAfter`, or `never`.'),
  })
    .optional()
    .describe('Edge retention of matching objects, overriding the global `retention` section.'),
});

const WINDOW_EXAMPLE = 'a window such as "Mon-Fri 08:00-18:00", "Sat,Sun" or "22:00-06:00"';

const bandwidthWindow = obj({
  window: z
    .preprocess(
      (v) => (typeof v === 'string' ? v.trim() : v),
      str(WINDOW_EXAMPLE).superRefine((value, ctx) => {
        const problem = parseTimeWindow(value);
        if (typeof problem === 'string')
          ctx.addIssue({ code: 'custom', message: `expected ${WINDOW_EXAMPLE}, got ${describeValue(value)}: ${problem}` });
      }),
    )
    .optional()
    .describe(
      'Days and hours of local time, such as "Mon-Fri 08:00-18:00", "Sat,Sun" or "22:00-06:00" (across midnight); absent means at all times.',
    ),
  // A limit that does not hold is worse than none: refused until the limiter lands.
  limit: rate
    .refine((limit) => limit === Infinity, {
      error: 'is refused: this version of Tributary sends at full speed and would not hold a limit; remove the window or set unlimited',
    })
    .describe('Most bytes per second sent to the core. This version holds no limit: only `unlimited` is accepted.'),
});

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * For cross-field checks: run them even when some field failed (zod skips them by default), as
 * long as the object itself is one; the failed fields are reported on their own.
 */
const isMapping = (payload: { value: unknown }): boolean => isRecord(payload.value);

const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PART_SIZE = 5 * 1024 ** 3;

const configShape = {
  site: str('a site name')
    .refine(
      (v) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(v),
      got('a site name of a-z, 0-9 and "-" (at most 63, not starting or ending with "-")'),
    )
    .describe(
      'Names this site: the first segment of its core keys and its name in the fleet view. 1-63 characters of `a-z`, `0-9` and `-`, not starting or ending with `-`.',
    ),
  journal: str()
    .default('./tributary-data')
    .describe("Folder for the SQLite journal and local state. A relative path is resolved from the config file's folder."),
  edge: obj({
    ...endpointFields,
    // The edge is only read, by requests that carry no SDK checksum: the setting would do nothing.
    checksums: checksums
      .optional()
      .refine((value) => value === undefined, {
        error: 'is refused at the edge: Tributary only reads there, and checks what it reads with its own MD5 and SHA-256; remove it',
      })
      .describe("Not for the edge (refused): only core writes use the AWS SDK's checksums."),
    forcePathStyle: bool
      .default(true)
      .describe(
        'Address buckets as endpoint/bucket (path style) rather than bucket.endpoint; MinIO, Ceph and most S3-compatible servers need true.',
      ),
    buckets: z
      .array(edgeBucket, { error: required('a list of buckets') })
      .min(1, { error: 'expected at least one bucket' })
      .describe('The buckets to replicate, at least one: plain names, or `{ name, prefix }` to replicate only the keys under prefix.'),
  }).describe('The S3 store of this site, replicated from: Tributary lists and reads it, never writes, and deletes only with `retention`.'),
  core: obj({
    ...endpointFields,
    encryption: obj({
      mode: z
        .enum(['none', 'AES256', 'aws:kms'], { error: required('none, AES256 or aws:kms') })
        .default('none')
        .describe('Server-side encryption asked for on every core write: none, AES256 (SSE-S3) or aws:kms (SSE-KMS).'),
      kmsKeyId: str().optional().describe("With aws:kms: the KMS key id or ARN; omit for the bucket's default key."),
    })
      .prefault({})
      .describe('Server-side encryption of everything written to the core (objects, multipart uploads, manifests, heartbeats).'),
    forcePathStyle: bool
      .default(false)
      .describe(
        'Address buckets as endpoint/bucket (path style) rather than bucket.endpoint; AWS S3 wants false, MinIO and Ceph usually true.',
      ),
    bucket: bucketName.describe('The core bucket every object of every site lands in.'),
    keyTemplate: str()
      .default('{site}/{bucket}/{key}')
      .describe(
        'Where an object lands in the core bucket. Tokens: `{site}` `{bucket}` `{key}` `{yyyy}` `{mm}` `{dd}` `{hh}` (the date parts of the source mtime, UTC). It must start with `{site}/`, end with `/{key}`, and contain `{bucket}` when the site has several buckets; see docs/keys.md.',
      ),
  }).describe('The S3 bucket everything lands in.'),
  rules: z
    .array(rule, { error: required('a list of rules') })
    .default([])
    .describe(
      'Priority, exclusion and compression per object. The first rule that matches an object decides; unmatched objects replicate as normal.',
    ),
  transfer: obj({
    concurrency: positiveInt.default(8).describe('Objects transferred at once.'),
    partSize: size()
      .refine((v) => v >= MIN_PART_SIZE, { error: 'must be at least 5MiB (the S3 minimum part size)' })
      .refine((v) => v <= MAX_PART_SIZE, { error: 'must be at most 5GiB (the S3 maximum part size)' })
      .default(16 * 1024 * 1024)
      .describe('Part size of multipart uploads, 5MiB to 5GiB.'),
    multipartThreshold: size()
      .default(64 * 1024 * 1024)
      .describe(
        'Objects larger than this go as multipart uploads that resume at their next part after a crash or a broken link; smaller ones go in one PUT. Lower it on slow, flaky links.',
      ),
    bufferThreshold: size()
      .default(8 * 1024 * 1024)
      .describe(
        'Objects up to this size are read into memory in one GET; larger ones are streamed (one hashing pass, then the upload), so memory stays bounded.',
      ),
    memoryLimit: size()
      .default(64 * 1024 * 1024)
      .describe('Bytes of object data buffered at once across all transfers (small objects, multipart parts); at least partSize.'),
    maxAttempts: positiveInt.default(10).describe('Attempts before an object is dead.'),
    retryBase: timerDuration(1, '1ms')
      .default(2000)
      .describe('Delay before the first retry of an object; it doubles with every further attempt (with jitter) up to retryCap.'),
    retryCap: timerDuration(1, '1ms')
      .default(15 * 60_000)
      .describe('Longest delay between two attempts of an object.'),
    headBeforePut: z
      .enum(['auto', 'always', 'never'], { error: required('auto, always or never') })
      .default('auto')
      .describe('HEAD the core key before uploading: auto does so only for retried objects.'),
  })
    .superRefine(
      (transfer, ctx) => {
        // Runs even when another transfer field is wrong, so every problem is reported at once;
        // a field that failed holds no number, and its own problem is reported already.
        const { partSize, memoryLimit, bufferThreshold, multipartThreshold, retryBase, retryCap } = transfer as Record<string, unknown>;
        const numbers = (...values: unknown[]) => values.every((v) => typeof v === 'number');
        if (numbers(partSize, memoryLimit) && (memoryLimit as number) < (partSize as number)) {
          ctx.addIssue({ code: 'custom', path: ['memoryLimit'], message: 'must be at least transfer.partSize' });
        }
        // A buffered object takes its whole size from the budget: a larger one could not fit.
        if (numbers(bufferThreshold, memoryLimit) && (bufferThreshold as number) > (memoryLimit as number)) {
          ctx.addIssue({ code: 'custom', path: ['bufferThreshold'], message: 'must be at most transfer.memoryLimit' });
        }
        if (numbers(multipartThreshold) && (multipartThreshold as number) > MAX_PART_SIZE) {
          ctx.addIssue({
            code: 'custom',
            path: ['multipartThreshold'],
            message: 'must be at most 5GiB (the largest object S3 takes in one PUT)',
          });
        }
        if (numbers(retryBase, retryCap) && (retryBase as number) > (retryCap as number)) {
          ctx.addIssue({ code: 'custom', path: ['retryBase'], message: 'must be at most transfer.retryCap' });
        }
      },
      { when: isMapping },
    )
    .prefault({})
    .describe('How objects are transferred.'),
  bandwidth: z
    .array(bandwidthWindow, { error: required('a list of windows') })
    .default([])
    .describe(
      'Bandwidth limits by time of day; the first window that matches the local time applies. This version holds no limit: windows are checked, and a limit other than `unlimited` is refused.',
    ),
  scan: obj({
    interval: timerDuration(1000, '1s').default(60_000).describe('Time between two reconcile scans of the edge buckets.'),
    pageSize: positiveInt
      .default(1000)
      .describe(
        "Keys asked for per list request, at the edge and in the core's listing of a first pass (S3 returns at most 1000: more is warned about).",
      ),
  })
    .prefault({})
    .describe('The reconcile scan: a full listing of the edge buckets that finds what to replicate.'),
  deletes: z
    .enum(['ignore', 'propagate'], { error: required('ignore or propagate') })
    .default('ignore')
    .describe(
      'What a deletion on the edge does in the core: ignore keeps the core copy (archive). propagate deletes it, once the edge confirms the object is gone and only if the core copy is the replicated version; deletions are seen by ObjectRemoved events and by complete scan passes.',
    ),
  retention: obj({
    deleteFromEdgeAfter: retentionPeriod
      .prefault('never')
      .describe(
        'Delete an object from the edge this long after it landed (and after its Last-Modified), such as 7d; `never` (default) keeps every edge object. An object is deleted only when it is done, is still the version that landed, and a HEAD of its core copy shows the recorded SHA-256 and size. The edge credentials then need s3:DeleteObject.',
      ),
    interval: timerDuration(1000, '1s')
      .default(60 * 60_000)
      .describe('How often the agent looks for edge objects whose retention period has passed (`sync --once` looks once, at its start).'),
  })
    .prefault({})
    .describe('Edge retention: free space at the edge once objects are safely in the core. Per rule with `rules[].retention`.'),
  http: obj({
    listen: str()
      .refine((v) => parseListen(v) !== undefined, got('host:port such as 127.0.0.1:9464'))
      .default('127.0.0.1:9464')
      .describe('host:port the agent serves /metrics /healthz /readyz /status /events on; a bare :port binds 127.0.0.1.'),
    token: str()
      .refine((v) => v.trim() !== '', {
        error: 'must not be empty: an empty token would let any request in (leave http.token out to run without one)',
      })
      .optional()
      .describe('Bearer token the event endpoint and the web pages require. Redacted wherever the config is printed.'),
  })
    .prefault({})
    .describe("The agent's HTTP endpoint."),
  events: obj({
    keyEncoding: z
      .enum(['auto', 'url', 'raw'], { error: required('auto, url or raw') })
      .default('auto')
      .describe(
        'How event records encode object keys: auto (by eventSource: ceph:s3 raw, AWS, MinIO and others URL-encoded), url, or raw.',
      ),
    maxBodySize: size()
      .refine((v) => v >= 1024, { error: 'must be at least 1KiB (one event record)' })
      .default(8 * 1024 * 1024)
      .describe('Largest POST /events body accepted; a larger one gets 413.'),
  })
    .prefault({})
    .describe('S3 event notifications received on POST /events (AWS S3, MinIO webhooks, Ceph RGW HTTP endpoints).'),
  manifests: obj({
    interval: timerDuration(1000, '1s')
      .default(60_000)
      .describe(
        'How often the agent writes NDJSON manifests of what landed to _tributary/manifests/site=<site>/dt=<day>/ (and at the end of every sync pass and on a clean stop).',
      ),
  })
    .prefault({})
    .describe('Manifests: one line per landed object, for analytics engines and audits.'),
  heartbeat: obj({
    interval: timerDuration(1000, '1s')
      .default(30_000)
      .describe(
        'How often the agent writes _tributary/sites/<site>/heartbeat.json to the core (and once more on a clean stop). A site run by `sync --once` writes one at the end of each run: set this to the time between runs, so the fleet view knows when one is missed.',
      ),
  })
    .prefault({})
    .describe('The heartbeat the fleet view reads from the core bucket.'),
  fleet: obj({
    lagThreshold: duration
      .default(5 * 60_000)
      .describe('`tributary fleet` calls a site lagging when its oldest pending object is older than this.'),
    concurrency: positiveInt.default(16).describe('Heartbeats `tributary fleet` reads at once.'),
  })
    .prefault({})
    .describe('The fleet view (`tributary fleet`): it needs only `core` (read access to the core bucket) and this section.'),
};

export const configSchema = obj(configShape).superRefine(
  (config, ctx) => {
    // Runs even when other fields are wrong (so every problem is reported at once): any part of
    // `config` may then be missing or hold a failed value, hence the checks of shape.
    const { core, edge } = config as { core?: unknown; edge?: unknown };
    const buckets = isRecord(edge) && Array.isArray(edge['buckets']) ? (edge['buckets'] as unknown[]) : undefined;
    const targets = (buckets ?? []).map((b) => (typeof b === 'string' ? { name: b, prefix: '' } : isRecord(b) ? b : undefined));
    targets.forEach((target, index) => {
      if (typeof target?.['name'] !== 'string' || typeof target['prefix'] !== 'string') return;
      const { name, prefix } = target as { name: string; prefix: string };
      const earlier = targets.findIndex(
        (other, at) =>
          at < index &&
          other?.['name'] === name &&
          typeof other['prefix'] === 'string' &&
          (prefix.startsWith(other['prefix']) || other['prefix'].startsWith(prefix)),
      );
      if (earlier >= 0) {
        const what =
          prefix === '' && targets[earlier]!['prefix'] === ''
            ? `${name} is listed twice`
            : `overlaps edge.buckets[${earlier}] (the same bucket, and one prefix contains the other)`;
        ctx.addIssue({ code: 'custom', path: ['edge', 'buckets', index], message: what });
      }
    });
    // A rule for a bucket this site does not replicate never matches: a typo, or a config copied
    // from another site. Only when every bucket name is known (else that field's own error says it).
    const names = targets.map((t) => t?.['name']);
    const rules = (config as { rules?: unknown }).rules;
    if (names.length > 0 && names.every((n) => typeof n === 'string') && Array.isArray(rules)) {
      rules.forEach((rule: unknown, index) => {
        const bucket = isRecord(rule) && isRecord(rule['match']) ? rule['match']['bucket'] : undefined;
        if (typeof bucket === 'string' && !names.includes(bucket)) {
          ctx.addIssue({
            code: 'custom',
            path: ['rules', index, 'match', 'bucket'],
            message: `${describeValue(bucket)} is not one of this site's edge buckets (${[...new Set(names)].join(', ')}): the rule would never match`,
          });
        }
      });
    }
    const template = isRecord(core) ? core['keyTemplate'] : undefined;
    if (typeof template !== 'string') return;
    for (const problem of validateKeyTemplate(template, buckets?.length ?? 1)) {
      ctx.addIssue({ code: 'custom', path: ['core', 'keyTemplate'], message: problem });
    }
  },
  { when: isMapping },
);

/**
 * What `tributary fleet` needs: `core` and the optional `fleet` section. A full agent config is
 * valid too (its other sections are checked as usual, and ignored).
 */
export const fleetConfigSchema = obj({
  ...(Object.fromEntries(Object.entries(configShape).map(([name, schema]) => [name, schema.optional()])) as {
    [K in keyof typeof configShape]: z.ZodOptional<(typeof configShape)[K]>;
  }),
  core: configShape.core,
  fleet: configShape.fleet,
});

export type FleetConfig = Readonly<Pick<z.output<typeof fleetConfigSchema>, 'core' | 'fleet'>>;

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
    transfer: ParsedConfig['transfer'];
  }
>;
