/**
 * The config loader: every kind of bad config is reported with the path of its field, all
 * problems of a file at once, and a good config comes back normalised, defaulted and frozen.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';

import { ConfigError, loadConfigFile, parseConfig, type LoadOptions } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import { configWarnings } from '../../../src/config/warnings.js';
import { parseRate } from '../../../src/core/units.js';
import { tempDir } from '../../helpers/temp-dir.js';

const MiB = 1024 * 1024;
const BASE_DIR = '/srv/tributary';

/** The smallest valid config; tests spread their changes over it. */
function minimal(): Record<string, unknown> {
  return { site: 'store-1', edge: { buckets: ['telemetry'] }, core: { bucket: 'lake' } };
}

function withField(section: 'edge' | 'core' | 'transfer' | 'scan' | 'http', fields: Record<string, unknown>) {
  const base = minimal();
  return { ...base, [section]: { ...((base[section] as object | undefined) ?? {}), ...fields } };
}

function parse(raw: unknown, options: LoadOptions = {}): Config {
  return parseConfig(raw, 'test.yaml', { env: {}, baseDir: BASE_DIR, ...options });
}

/** The problems a ConfigError lists; fails the test when the call does not throw one. */
function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected the config to be rejected');
}

function problems(raw: unknown, options: LoadOptions = {}): readonly string[] {
  return problemsOf(() => parse(raw, options));
}

function writeConfig(t: TestContext, text: string, name = 'tributary.yaml'): string {
  const dir = tempDir(t);
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function fileProblems(t: TestContext, text: string, env: NodeJS.ProcessEnv = {}): readonly string[] {
  const file = writeConfig(t, text);
  return problemsOf(() => loadConfigFile(file, { env }));
}

const BUCKET_RULE = '(3-63 characters of a-z, 0-9, ".", "-"; no "..", not an IP address)';
const SITE_RULE = 'a site name of a-z, 0-9 and "-" (at most 63, not starting or ending with "-")';

/** The example of DESIGN.md "Contract: the config file", verbatim. */
const DESIGN_EXAMPLE = readFileSync(new URL('../../../examples/tributary.yaml', import.meta.url), 'utf8');

const DESIGN_ENV = {
  EDGE_ACCESS_KEY: 'edge-access',
  EDGE_SECRET_KEY: 'edge-secret',
  CORE_ACCESS_KEY: 'core-access',
  CORE_SECRET_KEY: 'core-secret',
  TRIBUTARY_TOKEN: 'the-token',
};

describe('config: missing required fields', () => {
  it('an empty document lists every required top-level field', () => {
    assert.deepEqual(problems({}), ['site: required', 'edge: required', 'core: required']);
    assert.deepEqual(problems(null), ['site: required', 'edge: required', 'core: required']);
  });

  it('names the missing field inside its section', () => {
    assert.deepEqual(problems({ ...minimal(), core: {} }), ['core.bucket: required']);
    assert.deepEqual(problems({ ...minimal(), edge: {} }), ['edge.buckets: required']);
    const { site: _site, ...noSite } = minimal();
    assert.deepEqual(problems(noSite), ['site: required']);
  });

  it('names missing fields in lists and nested mappings', () => {
    assert.deepEqual(problems({ ...minimal(), bandwidth: [{ window: 'Mon-Fri 08:00-18:00' }] }), ['bandwidth[0].limit: required']);
    assert.deepEqual(problems(withField('core', { credentials: { accessKeyId: 'a' } })), ['core.credentials.secretAccessKey: required']);
    assert.deepEqual(problems(withField('edge', { buckets: [{}] })), ['edge.buckets[0].name: required']);
  });

  it('an empty bucket list is not enough', () => {
    assert.deepEqual(problems(withField('edge', { buckets: [] })), ['edge.buckets: expected at least one bucket']);
  });
});

describe('config: wrong types', () => {
  const concurrency = (value: unknown) => problems(withField('transfer', { concurrency: value }));

  it('transfer.concurrency must be a positive integer', () => {
    assert.deepEqual(concurrency('lots'), ['transfer.concurrency: expected a positive integer, got "lots"']);
    assert.deepEqual(concurrency(-1), ['transfer.concurrency: expected a positive integer, got -1']);
    assert.deepEqual(concurrency(0), ['transfer.concurrency: expected a positive integer, got 0']);
    assert.deepEqual(concurrency(1.5), ['transfer.concurrency: expected a positive integer, got 1.5']);
    assert.deepEqual(concurrency(null), ['transfer.concurrency: expected a positive integer, got null']);
    assert.deepEqual(concurrency('8.5'), ['transfer.concurrency: expected a positive integer, got "8.5"']);
    assert.deepEqual(concurrency([8]), ['transfer.concurrency: expected a positive integer, got a list']);
  });

  it('strings, booleans and lists say what they expected and what they got', () => {
    assert.deepEqual(problems({ ...minimal(), site: 42 }), ['site: expected a site name, got 42']);
    assert.deepEqual(problems({ ...minimal(), journal: 5 }), ['journal: expected a string, got 5']);
    assert.deepEqual(problems(withField('core', { region: true })), ['core.region: expected a string, got true']);
    assert.deepEqual(problems(withField('edge', { forcePathStyle: 'yes' })), ['edge.forcePathStyle: expected true or false, got "yes"']);
    assert.deepEqual(problems({ ...minimal(), rules: [{ exclude: 1 }] }), ['rules[0].exclude: expected true or false, got 1']);
    assert.deepEqual(problems({ ...minimal(), rules: 'all' }), ['rules: expected a list of rules, got "all"']);
    assert.deepEqual(problems(withField('edge', { buckets: 'telemetry' })), ['edge.buckets: expected a list of buckets, got "telemetry"']);
    assert.deepEqual(problems({ ...minimal(), bandwidth: {} }), ['bandwidth: expected a list of windows, got an object']);
    assert.deepEqual(problems(withField('http', { listen: 9464 })), ['http.listen: expected a string, got 9464']);
  });

  it('a section that is not a mapping says so', () => {
    assert.deepEqual(problems({ ...minimal(), edge: 'minio' }), ['edge: expected a mapping of fields, got "minio"']);
    assert.deepEqual(problems({ ...minimal(), transfer: null }), ['transfer: expected a mapping of fields, got null']);
    assert.deepEqual(problems({ ...minimal(), scan: ['60s'] }), ['scan: expected a mapping of fields, got a list']);
    assert.deepEqual(problems({ ...minimal(), rules: [{ match: null }] }), ['rules[0].match: expected a mapping of fields, got null']);
    assert.deepEqual(problems({ ...minimal(), rules: ['pos'] }), ['rules[0]: expected a mapping of fields, got "pos"']);
    assert.deepEqual(problems(withField('core', { credentials: 'none' })), ['core.credentials: expected a mapping of fields, got "none"']);
  });

  it('the document itself must be a mapping', () => {
    assert.deepEqual(problems(['site', 'edge']), ['(top level): expected a mapping of fields, got a list']);
    assert.deepEqual(problems('site: x'), ['(top level): expected a mapping of fields, got "site: x"']);
  });
});

describe('config: unknown fields', () => {
  it('at the top level', () => {
    assert.deepEqual(problems({ ...minimal(), sites: 'x' }), ['sites: unknown field']);
  });

  it('nested in sections, lists and list items', () => {
    assert.deepEqual(problems(withField('core', { bucketz: 'lake' })), ['core.bucketz: unknown field']);
    assert.deepEqual(problems({ ...minimal(), rules: [{ match: { prefix: 'a/' } }, { match: { prfix: 'b/' } }] }), [
      'rules[1].match.prfix: unknown field',
    ]);
    assert.deepEqual(problems(withField('edge', { buckets: [{ name: 'pos', prefx: 'receipts/' }] })), [
      'edge.buckets[0].prefx: unknown field',
    ]);
    assert.deepEqual(problems(withField('edge', { credentials: { accessKeyId: 'a', secretAccessKey: 'b', region: 'x' } })), [
      'edge.credentials.region: unknown field',
    ]);
    assert.deepEqual(problems(withField('transfer', { concurency: 4, partsize: '8MiB' })), [
      'transfer.concurency: unknown field',
      'transfer.partsize: unknown field',
    ]);
  });
});

describe('config: values outside their set', () => {
  it('enums list the values they accept', () => {
    assert.deepEqual(problems({ ...minimal(), rules: [{ priority: 'urgent' }] }), [
      'rules[0].priority: expected one of critical, high, normal, bulk, got "urgent"',
    ]);
    assert.deepEqual(problems({ ...minimal(), rules: [{}, { compress: 'lz4' }] }), [
      'rules[1].compress: expected zstd, gzip or none, got "lz4"',
    ]);
    assert.deepEqual(problems({ ...minimal(), deletes: 'sometimes' }), ['deletes: expected ignore or propagate, got "sometimes"']);
    assert.deepEqual(problems(withField('core', { checksums: 'always' })), [
      'core.checksums: expected when_required or when_supported, got "always"',
    ]);
    assert.deepEqual(problems(withField('transfer', { headBeforePut: true })), [
      'transfer.headBeforePut: expected auto, always or never, got true',
    ]);
  });

  it('sizes, durations and rates in units they do not know', () => {
    assert.deepEqual(problems(withField('transfer', { partSize: 'big' })), ['transfer.partSize: expected a size such as 16MiB, got "big"']);
    assert.deepEqual(problems(withField('transfer', { memoryLimit: '-5MiB' })), [
      'transfer.memoryLimit: expected a size such as 16MiB, got "-5MiB"',
    ]);
    assert.deepEqual(problems(withField('transfer', { multipartThreshold: '16 parsecs' })), [
      'transfer.multipartThreshold: expected a size such as 16MiB, got "16 parsecs"',
    ]);
    assert.deepEqual(problems(withField('scan', { interval: 'soon' })), [
      'scan.interval: expected a duration such as 60s, 5m or 1h, got "soon"',
    ]);
    assert.deepEqual(problems(withField('transfer', { retryBase: -1 })), [
      'transfer.retryBase: expected a duration such as 60s, 5m or 1h, got -1',
    ]);
    assert.deepEqual(problems(withField('edge', { requestTimeout: '10 s and a bit' })), [
      'edge.requestTimeout: expected a duration such as 60s, 5m or 1h, got "10 s and a bit"',
    ]);
    assert.deepEqual(problems({ ...minimal(), bandwidth: [{ limit: 'fast' }] }), [
      'bandwidth[0].limit: expected a rate such as 2MiB/s or unlimited, got "fast"',
    ]);
  });

  it('edge retention: a period or never, globally and per rule', () => {
    assert.equal(parse(minimal()).retention.deleteFromEdgeAfter, null, 'never by default');
    const config = parse({
      ...minimal(),
      retention: { deleteFromEdgeAfter: '7d', interval: '10m' },
      rules: [
        { match: { prefix: 'keep/' }, retention: { deleteFromEdgeAfter: 'never' } },
        { match: { suffix: '.tmp' }, retention: { deleteFromEdgeAfter: '1h' } },
      ],
    });
    assert.equal(config.retention.deleteFromEdgeAfter, 7 * 24 * 3600_000);
    assert.equal(config.retention.interval, 600_000);
    assert.deepEqual(
      config.rules.map((r) => r.retention?.deleteFromEdgeAfter),
      [null, 3600_000],
    );
    assert.deepEqual(problems({ ...minimal(), retention: { deleteFromEdgeAfter: 'a week' } }), [
      'retention.deleteFromEdgeAfter: expected a duration such as 7d, or never, got "a week"',
    ]);
    assert.deepEqual(problems({ ...minimal(), rules: [{ retention: { deleteFromEdgeAfter: -1 } }] }), [
      'rules[0].retention.deleteFromEdgeAfter: expected a duration such as 7d, or never, got -1',
    ]);
    assert.deepEqual(problems({ ...minimal(), rules: [{ retention: {} }] }), ['rules[0].retention.deleteFromEdgeAfter: required']);
    assert.deepEqual(problems({ ...minimal(), retention: { keepFor: '7d' } }), ['retention.keepFor: unknown field']);
  });

  it('bucket names S3 refuses although their characters are fine', () => {
    for (const bucket of ['a..b', 'logs..2026', '192.168.1.10']) {
      assert.deepEqual(
        problems(withField('core', { bucket })),
        [`core.bucket: expected an S3 bucket name ${BUCKET_RULE}, got ${JSON.stringify(bucket)}`],
        bucket,
      );
    }
    for (const bucket of ['site-.logs', 'a.-b', '192.168.1.lake']) assert.equal(parse(withField('core', { bucket })).core.bucket, bucket);
  });

  it('an edge bucket listed twice, or with overlapping prefixes, is a problem of the later entry', () => {
    assert.deepEqual(problems(withField('edge', { buckets: ['pos', 'telemetry', 'pos'] })), ['edge.buckets[2]: pos is listed twice']);
    assert.deepEqual(problems(withField('edge', { buckets: [{ name: 'pos', prefix: 'receipts/' }, 'pos'] })), [
      'edge.buckets[1]: overlaps edge.buckets[0] (the same bucket, and one prefix contains the other)',
    ]);
    assert.deepEqual(
      problems(
        withField('edge', {
          buckets: [
            { name: 'pos', prefix: 'a/' },
            { name: 'pos', prefix: 'a/b/' },
          ],
        }),
      ),
      ['edge.buckets[1]: overlaps edge.buckets[0] (the same bucket, and one prefix contains the other)'],
    );
    const disjoint = parse(
      withField('edge', {
        buckets: [
          { name: 'pos', prefix: 'receipts/' },
          { name: 'pos', prefix: 'returns/' },
        ],
      }),
    );
    assert.equal(disjoint.edge.buckets.length, 2);
  });

  it('a rule that names a bucket this site does not list is an error naming the field (it would never match)', () => {
    assert.deepEqual(problems({ ...minimal(), rules: [{ match: { prefix: 'a/' } }, { match: { bucket: 'pos' }, priority: 'critical' }] }), [
      'rules[1].match.bucket: "pos" is not one of this site\'s edge buckets (telemetry): the rule would never match',
    ]);
    assert.deepEqual(configWarnings(parse({ ...minimal(), rules: [{ match: { bucket: 'telemetry' }, priority: 'high' }] })), []);
  });

  it('refuses what this version cannot do, naming the field, instead of accepting and ignoring it', () => {
    assert.deepEqual(
      problems({
        ...minimal(),
        edge: { buckets: ['telemetry'], checksums: 'when_supported' },
        rules: [
          { match: { suffix: '.jsonl' }, compress: 'zstd' },
          { match: {}, compress: 'gzip' },
        ],
        bandwidth: [{ window: 'Mon-Fri 08:00-18:00', limit: '2MiB/s' }, { limit: 0 }],
      }),
      [
        'edge.checksums: is refused at the edge: Tributary only reads there, and checks what it reads with its own MD5 and SHA-256; remove it',
        'rules[0].compress: "zstd" is refused: this version of Tributary lands objects as they are; remove it or set none',
        'rules[1].compress: "gzip" is refused: this version of Tributary lands objects as they are; remove it or set none',
        'bandwidth[0].limit: is refused: this version of Tributary sends at full speed and would not hold a limit; remove the window or set unlimited',
        'bandwidth[1].limit: is refused: this version of Tributary sends at full speed and would not hold a limit; remove the window or set unlimited',
      ],
    );
    const accepted = parse({
      ...minimal(),
      rules: [{ match: {}, compress: 'none' }],
      bandwidth: [{ window: 'Sat,Sun', limit: 'unlimited' }, { limit: 'off' }],
    });
    assert.deepEqual(accepted.rules[0]?.compress, 'none');
    assert.deepEqual(
      accepted.bandwidth.map((w) => w.limit),
      [Infinity, Infinity],
    );
  });

  it('bandwidth windows: days, hours, or both', () => {
    for (const window of [
      'Mon-Fri 08:00-18:00',
      'Sat,Sun',
      'Mon, Wed-Fri 00:00-24:00',
      '22:00-06:00',
      'mon-fri 8:00-18:00',
      'Mon-Fri  08:00-18:00',
    ]) {
      assert.equal(parse({ ...minimal(), bandwidth: [{ window, limit: 'unlimited' }] }).bandwidth.length, 1, window);
    }
    assert.equal(
      parse({ ...minimal(), bandwidth: [{ window: ' Sun 10:30-11:45 ', limit: 'unlimited' }] }).bandwidth[0]!.window,
      'Sun 10:30-11:45',
    );
    const malformed: [string, string][] = [
      ['Mon-Fri 8-18', '"8-18" is not a time range such as 08:00-18:00 (hours 00-23, minutes 00-59, 24:00 as an end)'],
      ['weekdays', '"weekdays" is not a day or a day range such as Mon-Fri (days: Sun, Mon, Tue, Wed, Thu, Fri, Sat)'],
      ['Mon-Fri 08:00', '"08:00" is not a time range such as 08:00-18:00 (hours 00-23, minutes 00-59, 24:00 as an end)'],
      ['25:00-26:00', '"25:00-26:00" is not a time range such as 08:00-18:00 (hours 00-23, minutes 00-59, 24:00 as an end)'],
      [
        'Mon-Fri 08:00-18:00,20:00-22:00',
        '"08:00-18:00,20:00-22:00" is not a time range such as 08:00-18:00 (hours 00-23, minutes 00-59, 24:00 as an end)',
      ],
      ['Mon-Fri 08:00-08:00', '"08:00-08:00" starts where it ends: for all day, leave the hours out'],
      ['Mon-Fry 08:00-18:00', '"Mon-Fry" is not a day or a day range such as Mon-Fri (days: Sun, Mon, Tue, Wed, Thu, Fri, Sat)'],
      ['Mon Tue 08:00-18:00', 'expected days, hours or both, such as "Mon-Fri 08:00-18:00", "Sat,Sun" or "22:00-06:00"'],
    ];
    for (const [window, why] of malformed) {
      assert.deepEqual(
        problems({ ...minimal(), bandwidth: [{ window, limit: 'unlimited' }] }),
        [
          `bandwidth[0].window: expected a window such as "Mon-Fri 08:00-18:00", "Sat,Sun" or "22:00-06:00", got ${JSON.stringify(window.trim())}: ${why}`,
        ],
        window,
      );
    }
    assert.deepEqual(problems({ ...minimal(), bandwidth: [{ window: '', limit: 'unlimited' }] }), [
      'bandwidth[0].window: expected a window such as "Mon-Fri 08:00-18:00", "Sat,Sun" or "22:00-06:00", got "": expected days, hours or both, such as "Mon-Fri 08:00-18:00", "Sat,Sun" or "22:00-06:00"',
    ]);
  });

  it('partSize stays within what S3 allows for a part', () => {
    assert.deepEqual(problems(withField('transfer', { partSize: '1MiB' })), [
      'transfer.partSize: must be at least 5MiB (the S3 minimum part size)',
    ]);
    assert.deepEqual(problems(withField('transfer', { partSize: 5 * MiB - 1 })), [
      'transfer.partSize: must be at least 5MiB (the S3 minimum part size)',
    ]);
    assert.deepEqual(problems(withField('transfer', { partSize: '6GiB', memoryLimit: '8GiB' })), [
      'transfer.partSize: must be at most 5GiB (the S3 maximum part size)',
    ]);
    assert.equal(parse(withField('transfer', { partSize: '5MiB', multipartThreshold: '5MiB' })).transfer.partSize, 5 * MiB);
    assert.equal(parse(withField('transfer', { partSize: '5GiB', memoryLimit: '5GiB' })).transfer.partSize, 5 * 1024 * MiB);
  });

  it('memoryLimit holds at least one part', () => {
    assert.deepEqual(problems(withField('transfer', { memoryLimit: '8MiB' })), [
      'transfer.memoryLimit: must be at least transfer.partSize',
    ]);
    assert.deepEqual(problems(withField('transfer', { partSize: '64MiB', memoryLimit: '32MiB' })), [
      'transfer.memoryLimit: must be at least transfer.partSize',
    ]);
  });

  it('site names', () => {
    for (const site of ['Store-1', 'store_1', '-store', 'store-', 'store 1', '']) {
      assert.deepEqual(problems({ ...minimal(), site }), [`site: expected ${SITE_RULE}, got ${JSON.stringify(site)}`], site);
    }
    // A long value is shortened in the message.
    assert.deepEqual(problems({ ...minimal(), site: 'a'.repeat(64) }), [`site: expected ${SITE_RULE}, got "${'a'.repeat(57)}..."`]);
    for (const site of ['a', '0', 'store-0042', 'a'.repeat(63)]) assert.equal(parse({ ...minimal(), site }).site, site);
  });

  it('bucket names, in the core and on the edge', () => {
    assert.deepEqual(problems(withField('core', { bucket: 'Lake_1' })), [
      `core.bucket: expected an S3 bucket name ${BUCKET_RULE}, got "Lake_1"`,
    ]);
    assert.deepEqual(problems(withField('core', { bucket: 'ab' })), [`core.bucket: expected an S3 bucket name ${BUCKET_RULE}, got "ab"`]);
    assert.deepEqual(problems(withField('core', { bucket: 7 })), ['core.bucket: expected a bucket name, got 7']);
    assert.deepEqual(problems(withField('edge', { buckets: ['telemetry', 'Bad_Name'] })), [
      `edge.buckets[1]: expected an S3 bucket name ${BUCKET_RULE}, got "Bad_Name"`,
    ]);
    assert.deepEqual(problems(withField('edge', { buckets: [{ name: '-pos' }] })), [
      `edge.buckets[0].name: expected an S3 bucket name ${BUCKET_RULE}, got "-pos"`,
    ]);
    assert.deepEqual(problems(withField('edge', { buckets: [{ name: 'pos', prefix: 5 }] })), [
      'edge.buckets[0].prefix: expected a string, got 5',
    ]);
    assert.deepEqual(problems(withField('edge', { buckets: [42] })), [
      'edge.buckets[0]: expected a bucket name or { name, prefix }, got 42',
    ]);
    assert.equal(parse(withField('core', { bucket: 'my.lake-01' })).core.bucket, 'my.lake-01');
  });

  it('endpoint URLs', () => {
    assert.deepEqual(problems(withField('edge', { endpoint: 'ftp://minio:21' })), [
      'edge.endpoint: expected an http:// or https:// URL, got "ftp://minio:21"',
    ]);
    assert.deepEqual(problems(withField('core', { endpoint: 'minio:9000/' })), [
      'core.endpoint: expected an http:// or https:// URL, got "minio:9000/"',
    ]);
    assert.deepEqual(problems(withField('core', { endpoint: 'not a url' })), [
      'core.endpoint: expected an http:// or https:// URL, got "not a url"',
    ]);
    assert.deepEqual(problems(withField('edge', { endpoint: 9000 })), [
      'edge.endpoint: expected a URL such as http://127.0.0.1:9000, got 9000',
    ]);
    assert.equal(parse(withField('edge', { endpoint: 'https://s3.example.com:8443' })).edge.endpoint, 'https://s3.example.com:8443');
  });

  it('key templates: every problem validateKeyTemplate finds, under core.keyTemplate', () => {
    assert.deepEqual(problems(withField('core', { keyTemplate: '{bucket}/{key}/{foo}' })), [
      'core.keyTemplate: unknown token "{foo}"',
      'core.keyTemplate: must start with "{site}/"',
      'core.keyTemplate: must end with "{key}"',
    ]);
    assert.deepEqual(problems(withField('core', { keyTemplate: '{site}/{bucket}' })), ['core.keyTemplate: must contain "{key}"']);
    assert.deepEqual(problems(withField('core', { keyTemplate: '{site}/../{key}' })), [
      'core.keyTemplate: must not contain a ".." segment',
    ]);
  });

  it('a key template without {bucket} is fine for one bucket, not for several', () => {
    assert.equal(parse(withField('core', { keyTemplate: '{site}/{key}' })).core.keyTemplate, '{site}/{key}');
    const several = { ...minimal(), edge: { buckets: ['telemetry', 'pos'] }, core: { bucket: 'lake', keyTemplate: '{site}/{key}' } };
    assert.deepEqual(problems(several), ['core.keyTemplate: must contain "{bucket}" when the site has several buckets']);
  });
});

describe('config: ${VAR} from the environment', () => {
  const withCredentials = { ...minimal(), edge: { buckets: ['telemetry'], credentials: { accessKeyId: '${X}', secretAccessKey: '${Y}' } } };

  it('a variable that is not set is a problem of the field that uses it', () => {
    assert.deepEqual(problems(withCredentials, { env: { Y: 'secret' } }), [
      'edge.credentials.accessKeyId: environment variable X is not set',
    ]);
  });

  it('every missing variable is reported, in lists too', () => {
    assert.deepEqual(problems({ ...withCredentials, rules: [{ match: { prefix: '${PREFIX}' } }] }), [
      'edge.credentials.accessKeyId: environment variable X is not set',
      'edge.credentials.secretAccessKey: environment variable Y is not set',
      'rules[0].match.prefix: environment variable PREFIX is not set',
    ]);
  });

  it('a missing variable is reported once, not again for the empty value standing in for it', () => {
    assert.deepEqual(problems({ ...minimal(), site: '${SITE}' }), ['site: environment variable SITE is not set']);
  });

  it('substitutes inside longer strings, and a set-but-empty variable is empty', () => {
    const config = parse(
      { ...minimal(), site: 'store-${STORE}', rules: [{ match: { prefix: '${P}raw/' } }], http: { token: '${T}' } },
      { env: { STORE: '0042', P: '', T: 'tok' } },
    );
    assert.equal(config.site, 'store-0042');
    assert.equal(config.rules[0]?.match.prefix, 'raw/');
    assert.equal(config.http.token, 'tok');
  });

  it('the substituted value is validated like a literal one', () => {
    assert.deepEqual(problems({ ...minimal(), site: '${SITE}' }, { env: { SITE: 'Store 1' } }), [
      `site: expected ${SITE_RULE}, got "Store 1"`,
    ]);
    assert.equal(parse(withField('transfer', { partSize: '${PART}' }), { env: { PART: '32MiB' } }).transfer.partSize, 32 * MiB);
  });

  it('only ${NAME} is a reference: $NAME and ${} are literal text', () => {
    const config = parse({ ...minimal(), rules: [{ match: { prefix: '$HOME/${}/${1X}' } }] }, { env: { HOME: '/root' } });
    assert.equal(config.rules[0]?.match.prefix, '$HOME/${}/${1X}');
  });

  it('reads process.env when no env is given', () => {
    const name = 'TRIBUTARY_TEST_LOAD_SITE' as const;
    process.env[name] = 'from-process-env';
    try {
      assert.equal(parseConfig({ ...minimal(), site: `\${${name}}` }, 'x', { baseDir: BASE_DIR }).site, 'from-process-env');
    } finally {
      Reflect.deleteProperty(process.env, name);
    }
  });
});

describe('config: several problems at once', () => {
  it('reports every problem of the document in one ConfigError', () => {
    const raw = {
      site: 'Store_1',
      sitez: true,
      edge: { buckets: [], endpoint: 'ftp://x', credentials: { accessKeyId: '${MISSING}', secretAccessKey: 's' } },
      core: { keyTemplate: '{site}/{key}/x' },
      rules: [{ priority: 'urgent', match: { prfix: 'a/' } }],
      transfer: { concurrency: 'lots', partSize: '1MiB' },
      scan: { interval: 'soon' },
    };
    let caught: unknown;
    try {
      parse(raw);
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof ConfigError);
    assert.deepEqual([...caught.problems].sort(), [
      'core.bucket: required',
      'core.keyTemplate: must end with "{key}"',
      'edge.buckets: expected at least one bucket',
      'edge.credentials.accessKeyId: environment variable MISSING is not set',
      'edge.endpoint: expected an http:// or https:// URL, got "ftp://x"',
      'rules[0].match.prfix: unknown field',
      'rules[0].priority: expected one of critical, high, normal, bulk, got "urgent"',
      'scan.interval: expected a duration such as 60s, 5m or 1h, got "soon"',
      `site: expected ${SITE_RULE}, got "Store_1"`,
      'sitez: unknown field',
      'transfer.concurrency: expected a positive integer, got "lots"',
      'transfer.partSize: must be at least 5MiB (the S3 minimum part size)',
    ]);
    assert.equal(caught.code, 'TRIB_ERR_CONFIG_INVALID');
    assert.match(caught.message, /^invalid config test\.yaml:\n/);
    for (const problem of caught.problems) assert.ok(caught.message.includes(`\n  ${problem}`), problem);
  });

  it('checks across fields still run when an unrelated field is wrong', () => {
    assert.deepEqual(problems(withField('transfer', { concurrency: 0, memoryLimit: '8MiB' })), [
      'transfer.concurrency: expected a positive integer, got 0',
      'transfer.memoryLimit: must be at least transfer.partSize',
    ]);
    assert.deepEqual(problems({ ...minimal(), edge: { buckets: ['a1b', 42] }, core: { keyTemplate: '{key}' } }), [
      'edge.buckets[1]: expected a bucket name or { name, prefix }, got 42',
      'core.bucket: required',
      'core.keyTemplate: must start with "{site}/"',
      'core.keyTemplate: "{key}" must follow a "/"',
      'core.keyTemplate: must contain "{bucket}" when the site has several buckets',
    ]);
  });
});

describe('config: the file', () => {
  it('a YAML syntax error names the line and column', (t) => {
    const found = fileProblems(t, 'site: store-1\nedge: [telemetry\ncore: { bucket: lake }\n');
    assert.ok(found.length >= 1);
    for (const problem of found) assert.match(problem, /^YAML syntax error at line \d+, column \d+: \S/);
    assert.deepEqual(fileProblems(t, 'site: store-1\n\tedge: x\n'), [
      'YAML syntax error at line 2, column 1: Tabs are not allowed as indentation',
    ]);
  });

  it('a broken file reports its first few syntax errors, not every one that follows', (t) => {
    const lines = Array.from({ length: 40 }, (_, i) => `key${i}: value`);
    const found = fileProblems(t, `core: { bucket: lake {x} }\n${lines.join('\n')}\n`);
    assert.equal(found.length, 6, found.join('\n'));
    for (const problem of found.slice(0, 5)) assert.match(problem, /^YAML syntax error at line \d+, column \d+: \S/);
    assert.match(found[5] ?? '', /^\(\d+ more YAML errors after these\)$/);
    const duplicates = fileProblems(t, `site: a\n${'site: b\n'.repeat(10)}`);
    assert.deepEqual(duplicates.slice(0, 2), ['site: duplicate key (line 2, column 1)', 'site: duplicate key (line 3, column 1)']);
    assert.deepEqual(duplicates.slice(5), ['(5 more YAML errors after these)']);
  });

  it('a duplicate key names its path and where it repeats', (t) => {
    assert.deepEqual(fileProblems(t, 'site: store-1\nsite: store-2\n'), ['site: duplicate key (line 2, column 1)']);
    assert.deepEqual(fileProblems(t, 'site: store-1\nedge:\n  buckets: [telemetry]\n  buckets: [pos]\ncore:\n  bucket: lake\n'), [
      'edge.buckets: duplicate key (line 4, column 3)',
    ]);
    assert.deepEqual(fileProblems(t, 'site: store-1\nrules:\n  - priority: high\n    priority: bulk\n'), [
      'rules[0].priority: duplicate key (line 4, column 5)',
    ]);
  });

  it('an empty file, or one of only comments, is missing every required field', (t) => {
    assert.deepEqual(fileProblems(t, ''), ['site: required', 'edge: required', 'core: required']);
    assert.deepEqual(fileProblems(t, '# nothing here yet\n'), ['site: required', 'edge: required', 'core: required']);
  });

  it('a file that is a list, or a plain string, is not a config', (t) => {
    assert.deepEqual(fileProblems(t, '- site: store-1\n- core: lake\n'), ['(top level): expected a mapping of fields, got a list']);
    assert.deepEqual(fileProblems(t, 'just some text\n'), ['(top level): expected a mapping of fields, got "just some text"']);
  });

  it('a file that does not exist names the file', (t) => {
    const file = join(tempDir(t), 'missing.yaml');
    const found = problemsOf(() => loadConfigFile(file, { env: {} }));
    assert.equal(found.length, 1);
    assert.ok(found[0]?.startsWith(`cannot read ${file}: `), found[0]);
    assert.match(found[0] ?? '', /ENOENT/);
  });

  it('a folder is not a file', (t) => {
    const dir = tempDir(t);
    const found = problemsOf(() => loadConfigFile(dir, { env: {} }));
    assert.equal(found.length, 1);
    assert.ok(found[0]?.startsWith(`cannot read ${dir}: `), found[0]);
  });

  it('an alias to an anchor that does not exist is a problem, not a crash', (t) => {
    const found = fileProblems(t, 'site: *nowhere\n');
    assert.equal(found.length, 1);
    assert.match(found[0] ?? '', /^YAML: .*nowhere/);
  });

  it('problems of a file name the file in the message', (t) => {
    const file = writeConfig(t, 'site: store-1\n');
    assert.throws(
      () => loadConfigFile(file, { env: {} }),
      (error: unknown) => error instanceof ConfigError && error.message.startsWith(`invalid config ${file}:\n  edge: required`),
    );
  });

  it('${VAR} works in flow mappings and lists, where its braces are not plain YAML', (t) => {
    const file = writeConfig(
      t,
      [
        'site: store-1',
        'edge: { buckets: [ "${BUCKET}", { name: pos, prefix: ${PREFIX} } ] }',
        'core: { bucket: lake, credentials: { accessKeyId: ${KEY}, secretAccessKey: ${SECRET} } }',
        '',
      ].join('\n'),
    );
    const config = loadConfigFile(file, { env: { BUCKET: 'telemetry', PREFIX: 'receipts/', KEY: 'k: #1', SECRET: '{s}, [x]' } });
    assert.deepEqual(config.edge.buckets, [
      { name: 'telemetry', prefix: '' },
      { name: 'pos', prefix: 'receipts/' },
    ]);
    // The values are substituted after parsing: YAML syntax in them is just text.
    assert.deepEqual(config.core.credentials, { accessKeyId: 'k: #1', secretAccessKey: '{s}, [x]' });
  });

  it('a missing variable in a flow mapping is reported under its field', (t) => {
    assert.deepEqual(
      fileProblems(
        t,
        'site: store-1\nedge: { buckets: [telemetry] }\ncore: { bucket: lake, credentials: { accessKeyId: ${KEY}, secretAccessKey: x } }\n',
      ),
      ['core.credentials.accessKeyId: environment variable KEY is not set'],
    );
  });
});

describe('config: a valid config', () => {
  it('the example of the design parses, with its variables from the environment', (t) => {
    const file = writeConfig(t, DESIGN_EXAMPLE);
    const config = loadConfigFile(file, { env: DESIGN_ENV });
    assert.equal(config.site, 'store-0042');
    assert.equal(config.journal, join(file, '..', 'tributary-data'));
    assert.deepEqual(config.edge, {
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'edge-access', secretAccessKey: 'edge-secret' },
      requestTimeout: 60_000,
      maxAttempts: 3,
      buckets: [
        { name: 'telemetry', prefix: '' },
        { name: 'pos', prefix: 'receipts/' },
      ],
    });
    assert.deepEqual(config.core, {
      endpoint: 'https://s3.eu-west-1.amazonaws.com',
      region: 'eu-west-1',
      forcePathStyle: false,
      credentials: { accessKeyId: 'core-access', secretAccessKey: 'core-secret' },
      checksums: 'when_required',
      requestTimeout: 60_000,
      maxAttempts: 3,
      bucket: 'lake',
      keyTemplate: '{site}/{bucket}/{key}',
      encryption: { mode: 'none' },
    });
    assert.deepEqual(config.rules, [
      { match: { bucket: 'pos', prefix: 'receipts/' }, priority: 'critical' },
      { match: { suffix: '.jsonl' }, compress: 'none' },
      { match: { prefix: 'tmp/' }, exclude: true },
    ]);
    assert.equal(config.transfer.concurrency, 8);
    assert.equal(config.transfer.partSize, 16 * MiB);
    assert.deepEqual(config.bandwidth, [{ window: 'Mon-Fri 08:00-18:00', limit: Infinity }, { limit: Infinity }]);
    assert.equal(config.scan.interval, 60_000);
    assert.deepEqual(config.http, { listen: '127.0.0.1:9464', token: 'the-token' });
    assert.equal(config.deletes, 'ignore');
  });

  it('the example of the design without its variables names each one', (t) => {
    assert.deepEqual(fileProblems(t, DESIGN_EXAMPLE, { EDGE_ACCESS_KEY: 'a', EDGE_SECRET_KEY: 'b' }), [
      'core.credentials.accessKeyId: environment variable CORE_ACCESS_KEY is not set',
      'core.credentials.secretAccessKey: environment variable CORE_SECRET_KEY is not set',
      'http.token: environment variable TRIBUTARY_TOKEN is not set',
    ]);
  });

  it('applies every default', () => {
    assert.deepEqual(parse(minimal()), {
      site: 'store-1',
      journal: join(BASE_DIR, 'tributary-data'),
      edge: {
        region: 'us-east-1',
        requestTimeout: 60_000,
        maxAttempts: 3,
        forcePathStyle: true,
        buckets: [{ name: 'telemetry', prefix: '' }],
      },
      core: {
        region: 'us-east-1',
        checksums: 'when_required',
        requestTimeout: 60_000,
        maxAttempts: 3,
        forcePathStyle: false,
        bucket: 'lake',
        keyTemplate: '{site}/{bucket}/{key}',
        encryption: { mode: 'none' },
      },
      rules: [],
      transfer: {
        concurrency: 8,
        partSize: 16_777_216,
        multipartThreshold: 64 * MiB,
        bufferThreshold: 8 * MiB,
        memoryLimit: 64 * MiB,
        maxAttempts: 10,
        retryBase: 2000,
        retryCap: 15 * 60_000,
        headBeforePut: 'auto',
      },
      bandwidth: [],
      scan: { interval: 60_000, pageSize: 1000 },
      deletes: 'ignore',
      http: { listen: '127.0.0.1:9464' },
      events: { keyEncoding: 'auto', maxBodySize: 8 * MiB },
      manifests: { interval: 60_000 },
      retention: { deleteFromEdgeAfter: null, interval: 3_600_000 },
      heartbeat: { interval: 30_000 },
      fleet: { lagThreshold: 300_000, concurrency: 16 },
    });
  });

  it('multipartThreshold is 64MiB unless set, whatever the part size', () => {
    assert.equal(parse(withField('transfer', { partSize: '32MiB', memoryLimit: '64MiB' })).transfer.multipartThreshold, 64 * MiB);
    assert.equal(parse(withField('transfer', { multipartThreshold: '100MB' })).transfer.multipartThreshold, 100_000_000);
  });

  it('a rule without match matches everything', () => {
    assert.deepEqual(parse({ ...minimal(), rules: [{ priority: 'bulk' }] }).rules, [{ match: {}, priority: 'bulk' }]);
  });

  it('reads sizes, durations and rates in their units', () => {
    const config = parse({
      ...minimal(),
      edge: { buckets: ['telemetry'], requestTimeout: '250ms' },
      transfer: { partSize: 8 * MiB, multipartThreshold: '1.5MiB', memoryLimit: '1GB', retryBase: 90, retryCap: '1h30m' },
      scan: { interval: '2d' },
    });
    assert.equal(config.edge.requestTimeout, 250);
    assert.equal(config.transfer.partSize, 8 * MiB);
    assert.equal(config.transfer.multipartThreshold, 1.5 * MiB);
    assert.equal(config.transfer.memoryLimit, 1_000_000_000);
    assert.equal(config.transfer.retryBase, 90_000, 'a bare number is seconds');
    assert.equal(config.transfer.retryCap, 90 * 60_000);
    assert.equal(config.scan.interval, 2 * 86_400_000);
    // Rates: what bandwidth[].limit will hold once limits are applied (refused until then).
    assert.deepEqual(
      ['512KiB/s', '1MB', 'off', 'unlimited', 0, '0', '0B/s'].map((rate) => parseRate(rate)),
      [512 * 1024, 1_000_000, Infinity, Infinity, 0, 0, 0],
    );
  });

  it('buckets normalise to { name, prefix }', () => {
    const config = parse(withField('edge', { buckets: ['telemetry', { name: 'pos', prefix: 'receipts/' }, { name: 'cams' }] }));
    assert.deepEqual(config.edge.buckets, [
      { name: 'telemetry', prefix: '' },
      { name: 'pos', prefix: 'receipts/' },
      { name: 'cams', prefix: '' },
    ]);
  });

  it('the result is deeply frozen', () => {
    const config = parse({
      ...minimal(),
      edge: { buckets: ['telemetry'], credentials: { accessKeyId: 'a', secretAccessKey: 'b' } },
      rules: [{ match: { prefix: 'a/' }, priority: 'high' }],
      bandwidth: [{ limit: 'unlimited' }],
    });
    const parts: unknown[] = [
      config,
      config.edge,
      config.edge.buckets,
      config.edge.buckets[0],
      config.edge.credentials,
      config.core,
      config.rules,
      config.rules[0],
      config.rules[0]?.match,
      config.transfer,
      config.bandwidth,
      config.bandwidth[0],
      config.scan,
      config.http,
    ];
    for (const [index, part] of parts.entries()) assert.ok(Object.isFrozen(part), `part ${index} is not frozen`);
    assert.throws(() => {
      (config.transfer as { concurrency: number }).concurrency = 99;
    }, TypeError);
    assert.throws(() => {
      (config.edge.buckets as unknown as { name: string }[]).push({ name: 'x' });
    }, TypeError);
  });

  it('two loads share no objects: freezing one does not touch the other', () => {
    const first = parse(minimal());
    const second = parse(minimal());
    assert.notEqual(first.rules, second.rules);
    assert.notEqual(first.transfer, second.transfer);
  });

  it('a relative journal resolves against the folder of the config file', (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, 'etc'));
    const file = join(dir, 'etc', 'tributary.yaml');
    writeFileSync(file, 'site: store-1\njournal: ../var/journal\nedge: { buckets: [telemetry] }\ncore: { bucket: lake }\n');
    assert.equal(loadConfigFile(file, { env: {} }).journal, join(dir, 'var', 'journal'));

    writeFileSync(file, 'site: store-1\nedge: { buckets: [telemetry] }\ncore: { bucket: lake }\n');
    assert.equal(loadConfigFile(file, { env: {} }).journal, join(dir, 'etc', 'tributary-data'));
  });

  it('an absolute journal stays as it is; parseConfig resolves against baseDir', () => {
    assert.equal(parse({ ...minimal(), journal: '/var/lib/tributary' }).journal, '/var/lib/tributary');
    assert.equal(parse({ ...minimal(), journal: 'data' }, { baseDir: '/opt/x' }).journal, '/opt/x/data');
  });
});

it('timer intervals must fit a timer: 0 would scan without pause, more than 24 days would fire at once', () => {
  assert.deepEqual(problems(withField('scan', { interval: '0s' })), ['scan.interval: must be from 1s to 24d']);
  assert.deepEqual(problems(withField('scan', { interval: '30d' })), ['scan.interval: must be from 1s to 24d']);
  assert.deepEqual(problems({ ...minimal(), heartbeat: { interval: '25d' }, manifests: { interval: '0s' } }), [
    'manifests.interval: must be from 1s to 24d',
    'heartbeat.interval: must be from 1s to 24d',
  ]);
  assert.deepEqual(problems(withField('transfer', { retryCap: '30d' })), ['transfer.retryCap: must be from 1ms to 24d']);
  assert.equal(parse(withField('scan', { interval: '24d' })).scan.interval, 24 * 24 * 60 * 60_000);
});

it('an empty http.token is refused: it would let any request in', (t) => {
  assert.deepEqual(problems(withField('http', { token: '' })), [
    'http.token: must not be empty: an empty token would let any request in (leave http.token out to run without one)',
  ]);
  const file = writeConfig(t, 'site: s\nedge: { buckets: [b1b] }\ncore: { bucket: lake }\nhttp: { token: "${TOKEN}" }\n');
  assert.deepEqual(
    problemsOf(() => loadConfigFile(file, { env: { TOKEN: '' } })),
    ['http.token: must not be empty: an empty token would let any request in (leave http.token out to run without one)'],
  );
});

it('a wrong secret is reported without its value, and an endpoint may not carry a user or password', () => {
  const raw = {
    ...minimal(),
    edge: { buckets: ['telemetry'], credentials: { accessKeyId: 'AKIA', secretAccessKey: 12345678901234 } },
    http: { token: 98765432109876 },
  };
  const found = problems(raw);
  assert.deepEqual(found, [
    'edge.credentials.secretAccessKey: expected a string, got a value (redacted)',
    'http.token: expected a string, got a value (redacted)',
  ]);
  assert.ok(!found.join().includes('12345678901234') && !found.join().includes('98765432109876'));
  assert.deepEqual(problems(withField('edge', { endpoint: 'http://admin:hunter2@127.0.0.1:9000' })), [
    'edge.endpoint: must not carry a user or password: put the keys under credentials',
  ]);
});

it('transfer settings that cannot work together are refused', () => {
  assert.deepEqual(problems(withField('transfer', { bufferThreshold: '1GiB', memoryLimit: '64MiB' })), [
    'transfer.bufferThreshold: must be at most transfer.memoryLimit',
  ]);
  assert.deepEqual(problems(withField('transfer', { multipartThreshold: '10TiB' })), [
    'transfer.multipartThreshold: must be at most 5GiB (the largest object S3 takes in one PUT)',
  ]);
  assert.deepEqual(problems(withField('transfer', { retryBase: '1h', retryCap: '1s' })), [
    'transfer.retryBase: must be at most transfer.retryCap',
  ]);
  assert.deepEqual(problems({ ...minimal(), events: { maxBodySize: 0 } }), [
    'events.maxBodySize: must be at least 1KiB (one event record)',
  ]);
});

it('warnings for rules that swallow the rules after them, an open listener without a token, a KMS key that is not used', () => {
  // The indentation slip `- match: {...}` / `- exclude: true` makes two rules of one.
  const slip = parse({
    ...minimal(),
    rules: [{ match: { prefix: 'tmp/' } }, { exclude: true }, { match: { prefix: 'a/' }, priority: 'high' }],
  });
  assert.deepEqual(configWarnings(slip), [
    'rules[1]: has no match conditions and excludes every object: nothing is replicated',
    'rules[1]: has no match conditions, so it decides for every object and rules[2] never apply',
  ]);
  assert.deepEqual(
    configWarnings(parse({ ...minimal(), rules: [{ match: { prefix: 'tmp/' }, exclude: true }, { priority: 'bulk' }] })),
    [],
  );
  assert.deepEqual(configWarnings(parse(withField('http', { listen: '0.0.0.0:9464' }))), [
    'http.listen: 0.0.0.0:9464 is reachable from other hosts and http.token is not set: anyone who reaches it can post events and read /status',
  ]);
  assert.deepEqual(configWarnings(parse(withField('http', { listen: '0.0.0.0:9464', token: 'secret' }))), []);
  assert.deepEqual(configWarnings(parse(withField('http', { listen: '[::1]:9464' }))), []);
  assert.deepEqual(
    configWarnings(parse({ ...minimal(), core: { bucket: 'lake', encryption: { kmsKeyId: 'arn:aws:kms:eu-west-1:1:key/x' } } })),
    ['core.encryption.kmsKeyId: ignored unless core.encryption.mode is aws:kms (it is none)'],
  );
});

it('warnings for a CA bundle on a plain http endpoint and a page size no server gives', () => {
  const onHttp = parse({ ...withField('edge', { endpoint: 'http://minio.local:9000', caBundle: 'ca.pem' }), scan: { pageSize: 5000 } });
  assert.deepEqual(configWarnings(onHttp), [
    'edge.caBundle: ignored: edge.endpoint is http:// (no TLS), so no certificate is checked',
    'scan.pageSize: 5000 asks for more keys than S3 sends in one list request (1000): pages hold at most 1000',
  ]);
  assert.deepEqual(
    configWarnings(parse({ ...withField('edge', { endpoint: 'https://minio.local:9000', caBundle: 'ca.pem' }), scan: { pageSize: 1000 } })),
    [],
  );
});

it('${VAR} only: a shell default such as ${VAR:-x} is refused by name, not taken literally', () => {
  assert.deepEqual(problems(withField('http', { token: '${TOKEN:-abc}' }), { env: {} }), [
    'http.token: ${TOKEN:-abc} is not supported: write ${NAME} (no defaults or other shell forms)',
  ]);
});

it('for commands that only read the journal, unset secrets are not an error (and other unset variables still are)', () => {
  const raw = {
    ...minimal(),
    journal: '${JOURNAL_DIR}',
    edge: { buckets: ['telemetry'], credentials: { accessKeyId: '${EK}', secretAccessKey: '${ES}' } },
    http: { token: '${TOKEN}' },
  };
  assert.deepEqual(problems(raw, { env: { JOURNAL_DIR: '/srv/j' } }), [
    'edge.credentials.accessKeyId: environment variable EK is not set',
    'edge.credentials.secretAccessKey: environment variable ES is not set',
    'http.token: environment variable TOKEN is not set',
  ]);
  const local = parse(raw, { env: { JOURNAL_DIR: '/srv/j' }, secretsMayBeUnset: true });
  assert.equal(local.journal, '/srv/j');
  assert.deepEqual(problems(raw, { env: {}, secretsMayBeUnset: true }), ['journal: environment variable JOURNAL_DIR is not set']);
});

it('a relative caBundle is relative to the config file, like journal', () => {
  const config = parse({
    ...minimal(),
    journal: 'data',
    edge: { buckets: ['telemetry'], caBundle: 'certs/edge-ca.pem' },
    core: { bucket: 'lake', caBundle: '/etc/ssl/core.pem' },
  });
  assert.equal(config.journal, join(BASE_DIR, 'data'));
  assert.equal(config.edge.caBundle, join(BASE_DIR, 'certs', 'edge-ca.pem'));
  assert.equal(config.core.caBundle, '/etc/ssl/core.pem');
});
