/**
 * Hostile input, property-based (fast-check): arbitrary JSON, deeply nested and wrongly typed
 * values for the event parser and the config loader, and arbitrary or truncated bytes for the
 * listing parser. Each answer is checked against what it must be, not only for the absence of a
 * crash: the event parser against a reference written from its documented rules and against
 * bodies built from a known model, the config loader against documents whose right and wrong
 * fields are known, the listing parser against the listing it was rendered from.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { ConfigError, parseConfig } from '../../../src/config/load.js';
import { EventBodyError, parseS3Events, type ParsedEvents } from '../../../src/detect/s3-events.js';
import { isTributaryError } from '../../../src/core/errors.js';
import type { SourceObject } from '../../../src/ports/source-store.js';
import { parseListing } from '../../../src/s3/parse-listing.js';

const now = new Date('2026-11-27T12:00:00Z');

// ---------------------------------------------------------------------------------------------
// Event bodies

/**
 * What parseS3Events must answer, written from the rules in its header comment (AWS, MinIO and
 * Ceph event notifications), not from its code: the result, or the message of its EventBodyError.
 */
function expectedEvents(body: unknown): ParsedEvents | { error: string } {
  const plain = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!plain(body) || !Array.isArray(body['Records'])) return { error: 'expected a JSON object with a "Records" list' };
  const result = { created: [] as SourceObject[], removed: [] as { bucket: string; key: string }[], otherKinds: 0 };
  for (const [i, record] of (body['Records'] as unknown[]).entries()) {
    const at = `Records[${i}]`;
    if (!plain(record)) return { error: `${at}: expected an object` };
    if (typeof record['eventName'] !== 'string') return { error: `${at}.eventName: expected a string` };
    const kind = /^(?:s3:)?Object(Created|Removed):/.exec(record['eventName'])?.[1];
    if (kind === undefined) {
      result.otherKinds += 1;
      continue;
    }
    const s3 = plain(record['s3']) ? record['s3'] : {};
    const bucket = plain(s3['bucket']) ? s3['bucket']['name'] : undefined;
    const object = plain(s3['object']) ? s3['object'] : {};
    if (typeof bucket !== 'string' || bucket.length === 0) return { error: `${at}.s3.bucket.name: expected a bucket name` };
    const raw = object['key'];
    if (typeof raw !== 'string' || raw.length === 0) return { error: `${at}.s3.object.key: expected a key` };
    let key = raw;
    if (record['eventSource'] !== 'ceph:s3') {
      try {
        key = decodeURIComponent(raw.split('+').join(' '));
      } catch {
        return { error: `${at}.s3.object.key: not valid URL encoding` };
      }
    }
    // encodeURIComponent refuses exactly the strings with a lone surrogate (no UTF-8 form).
    try {
      encodeURIComponent(key);
    } catch {
      return { error: `${at}.s3.object.key: not valid Unicode (a lone surrogate)` };
    }
    if (kind === 'Removed') {
      result.removed.push({ bucket, key });
      continue;
    }
    const quoted = [object['eTag'], object['etag']].find((value): value is string => typeof value === 'string');
    const etag = quoted?.replace(/^"+/, '').replace(/"+$/, '') ?? '';
    if (etag === '') return { error: `${at}.s3.object.eTag: expected the object's ETag` };
    const sent = object['size'];
    const size = typeof sent === 'string' && /^[0-9]+$/.test(sent) ? Number(sent) : typeof sent === 'number' ? sent : -1;
    if (!Number.isSafeInteger(size) || size < 0) return { error: `${at}.s3.object.size: expected a size in bytes` };
    const time = typeof record['eventTime'] === 'string' ? new Date(record['eventTime']) : undefined;
    const versionId = object['versionId'];
    result.created.push({
      bucket,
      key,
      etag,
      size,
      mtime: time === undefined || Number.isNaN(time.getTime()) ? now : time,
      mtimeExact: false,
      ...(typeof versionId === 'string' && versionId !== '' ? { versionId } : {}),
    });
  }
  return result;
}

function actualEvents(body: unknown): ParsedEvents | { error: string } {
  try {
    return parseS3Events(body, 'auto', now);
  } catch (error) {
    if (!(error instanceof EventBodyError)) throw error;
    return { error: error.message };
  }
}

// Values shaped like event records, with every field sometimes wrong (often enough right that
// whole records get through: created objects are compared too).
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, fc.anything(), fc.constant(undefined));
const mostly = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 14, arbitrary: arb }, { weight: 1, arbitrary: fc.anything() }, { weight: 1, arbitrary: fc.constant(undefined) });
const recordArb = fc.record({
  eventSource: mostly(fc.constantFrom('aws:s3', 'minio:s3', 'ceph:s3')),
  eventName: mostly(fc.constantFrom('ObjectCreated:Put', 's3:ObjectCreated:Copy', 'ObjectRemoved:Delete', 'ObjectRestore:Post')),
  eventTime: mostly(fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toISOString()))),
  s3: mostly(
    fc.record({
      bucket: mostly(fc.record({ name: mostly(fc.string({ minLength: 1 })) })),
      object: mostly(
        fc.record({
          key: mostly(fc.oneof(fc.string({ minLength: 1 }), fc.constantFrom('', 'a%2Fb+c', '%E0%A4%A', '\ud800x', '%ED%A0%80'))),
          size: mostly(fc.oneof({ weight: 3, arbitrary: fc.nat() }, fc.integer(), fc.string(), fc.constantFrom('007', '1e3', ''))),
          eTag: mostly(fc.oneof(fc.string({ minLength: 1 }), fc.constantFrom('"abc"', '""'))),
          versionId: mostly(fc.string()),
        }),
      ),
    }),
  ),
});

test('event bodies: any JSON value gives exactly the events or the EventBodyError the rules define', () => {
  const seen = { parsed: 0, refused: 0, created: 0 };
  fc.assert(
    fc.property(
      fc.oneof(
        { weight: 1, arbitrary: fc.anything() },
        {
          weight: 3,
          arbitrary: fc.record({
            Records: fc.oneof({ weight: 4, arbitrary: fc.array(recordArb, { maxLength: 4 }) }, { weight: 1, arbitrary: fc.anything() }),
          }),
        },
      ),
      (body) => {
        const actual = actualEvents(body);
        assert.deepEqual(actual, expectedEvents(body));
        if ('error' in actual) seen.refused += 1;
        else {
          seen.parsed += 1;
          seen.created += actual.created.length;
        }
      },
    ),
    { numRuns: 3000 },
  );
  // The generator reaches both answers, and bodies with created objects among the parsed ones.
  assert.ok(seen.parsed > 100 && seen.refused > 100 && seen.created > 20, JSON.stringify(seen));
});

type Source = 'aws:s3' | 'minio:s3' | 'ceph:s3';
/** A record as the generator knows it, independent of any parser. */
interface RecordModel {
  readonly source: Source;
  readonly kind: 'created' | 'removed' | 'other';
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
  readonly size: number;
  readonly time: Date | undefined;
  readonly versionId: string | undefined;
}

const modelArb: fc.Arbitrary<RecordModel> = fc.record({
  source: fc.constantFrom<Source>('aws:s3', 'minio:s3', 'ceph:s3'),
  kind: fc.constantFrom<RecordModel['kind']>('created', 'created', 'removed', 'other'),
  bucket: fc.stringMatching(/^[a-z0-9][a-z0-9.-]{1,20}[a-z0-9]$/),
  key: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
  etag: fc.oneof(fc.stringMatching(/^[0-9a-f]{32}$/), fc.stringMatching(/^[0-9a-f]{32}-[1-9][0-9]{0,3}$/)),
  size: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)),
  time: fc.option(fc.date({ noInvalidDate: true }), { nil: undefined }),
  versionId: fc.option(fc.stringMatching(/^[A-Za-z0-9._-]{1,16}$/), { nil: undefined }),
});

/** The JSON a sender of `source` writes for the record: keys URL-encoded (form style) but by Ceph, sizes as text by Ceph. */
function renderRecord(model: RecordModel): Record<string, unknown> {
  const key = model.source === 'ceph:s3' ? model.key : encodeURIComponent(model.key).replace(/%20/g, '+');
  const names = { created: 'ObjectCreated:Put', removed: 'ObjectRemoved:Delete', other: 'ObjectRestore:Completed' };
  const object: Record<string, unknown> = { key };
  if (model.kind === 'created') {
    object['size'] = model.source === 'ceph:s3' ? String(model.size) : model.size;
    object['eTag'] = `"${model.etag}"`;
  }
  if (model.versionId !== undefined) object['versionId'] = model.versionId;
  return {
    eventVersion: '2.1',
    eventSource: model.source,
    eventName: model.source === 'minio:s3' ? `s3:${names[model.kind]}` : names[model.kind],
    ...(model.time === undefined ? {} : { eventTime: model.time.toISOString() }),
    s3: { bucket: { name: model.bucket }, object },
  };
}

test('event bodies built from a known model parse to exactly that model', () => {
  fc.assert(
    fc.property(fc.array(modelArb, { maxLength: 10 }), (models) => {
      const parsed = parseS3Events({ Records: models.map(renderRecord) }, 'auto', now);
      assert.deepEqual(parsed, {
        created: models
          .filter((m) => m.kind === 'created')
          .map((m) => ({
            bucket: m.bucket,
            key: m.key,
            etag: m.etag,
            size: m.size,
            mtime: m.time ?? now,
            mtimeExact: false,
            ...(m.versionId === undefined ? {} : { versionId: m.versionId }),
          })),
        removed: models.filter((m) => m.kind === 'removed').map((m) => ({ bucket: m.bucket, key: m.key })),
        otherKinds: models.filter((m) => m.kind === 'other').length,
      });
    }),
    { numRuns: 1000 },
  );
});

test('event bodies: deeply nested input is refused, not a stack overflow', () => {
  let deep: unknown = {};
  for (let i = 0; i < 10_000; i += 1) deep = { Records: [deep] };
  assert.throws(() => parseS3Events(deep, 'auto', now), EventBodyError);
});

// ---------------------------------------------------------------------------------------------
// Config documents

test('config: any document gives a config or a ConfigError whose every problem names a field', () => {
  const section = fc.dictionary(
    fc.constantFrom('endpoint', 'bucket', 'buckets', 'concurrency', 'partSize', 'interval', 'listen', 'token', 'x'),
    fc.anything(),
    { maxKeys: 4 },
  );
  let refused = 0;
  fc.assert(
    fc.property(
      fc.oneof(
        fc.anything(),
        fc.record({
          site: maybe(fc.string()),
          journal: maybe(fc.string()),
          edge: maybe(section),
          core: maybe(section),
          transfer: maybe(section),
          scan: maybe(section),
          http: maybe(section),
        }),
      ),
      (document) => {
        try {
          parseConfig(document, '(fuzz)', { env: {} });
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          refused += 1;
          assert.ok(error.problems.length > 0);
          for (const problem of error.problems) assert.match(problem, /^\S.*: .+/, problem);
        }
      },
    ),
    { numRuns: 2000 },
  );
  assert.ok(refused > 1000, `${refused} documents refused`);
});

const MiB = 1024 * 1024;
/** One field of a generated document: its value (absent when undefined) and what it must parse to, or `wrong`. */
type Field = { readonly value: unknown; readonly parsed: unknown } | { readonly value: unknown; readonly wrong: true };
const right = <T>(arb: fc.Arbitrary<T>, parse: (value: T) => unknown = (value) => value): fc.Arbitrary<Field> =>
  arb.map((value) => ({ value, parsed: parse(value) }));
const wrong = (...values: unknown[]): fc.Arbitrary<Field> => fc.constantFrom(...values).map((value) => ({ value, wrong: true as const }));
const bucketArb = fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,12}[a-z0-9]$/);

/** Right values four times as often as wrong ones, so that whole documents are often right. */
const field = (rights: fc.Arbitrary<Field>[], wrongs: fc.Arbitrary<Field>): fc.Arbitrary<Field> =>
  fc.oneof({ weight: 4, arbitrary: fc.oneof(...rights) }, { weight: 1, arbitrary: wrongs });

/** Field path -> right values (what they parse to, absence meaning the default) and wrong ones. */
const FIELDS: Record<string, fc.Arbitrary<Field>> = {
  site: field(
    [right(fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?$/))],
    wrong('Store_1', '-store', 'store-', '', 'a'.repeat(64), 42, undefined),
  ),
  'edge.endpoint': field(
    [right(fc.integer({ min: 1, max: 65535 }).map((port) => `http://127.0.0.1:${port}`)), right(fc.constant(undefined))],
    wrong('ftp://127.0.0.1', 'not a url', 'http://user:secret@127.0.0.1:9000', 9000),
  ),
  'edge.buckets': field(
    [right(fc.uniqueArray(bucketArb, { minLength: 1, maxLength: 3 }), (names) => names.map((name) => ({ name, prefix: '' })))],
    wrong([], ['Bad_Name'], [42], undefined),
  ),
  'core.bucket': field([right(bucketArb)], wrong('ab', 'a..b', '192.168.1.10', 'UPPER', 42, undefined)),
  'transfer.concurrency': field(
    [
      right(fc.integer({ min: 1, max: 256 })),
      right(fc.integer({ min: 1, max: 256 }).map(String), Number),
      right(fc.constant(undefined), () => 8),
    ],
    wrong(0, -1, 1.5, 'lots', ''),
  ),
  'transfer.partSize': field(
    [
      right(
        fc.integer({ min: 5, max: 64 }).map((n) => `${n}MiB`),
        (text) => Number.parseInt(text, 10) * MiB,
      ),
      right(fc.constant(undefined), () => 16 * MiB),
    ],
    wrong('1MiB', 'huge', -5, true),
  ),
  'scan.interval': field(
    [
      right(
        fc.integer({ min: 1, max: 3600 }).map((n) => `${n}s`),
        (text) => Number.parseInt(text, 10) * 1000,
      ),
      right(fc.constant(undefined), () => 60_000),
    ],
    wrong('0s', '30d', 'soon', -1),
  ),
  'http.token': field([right(fc.stringMatching(/^[A-Za-z0-9]{1,24}$/)), right(fc.constant(undefined))], wrong('', 42, null)),
};

test('config: a document with known right and wrong fields loads to the right values, or names exactly the wrong fields', () => {
  let loaded = 0;
  fc.assert(
    fc.property(fc.record(FIELDS), (fields) => {
      const document: Record<string, Record<string, unknown>> = {};
      for (const [path, field] of Object.entries(fields)) {
        if (field.value === undefined) continue;
        const [section, name] = path.includes('.') ? path.split('.') : ['', path];
        if (section === '') (document as Record<string, unknown>)[name!] = field.value;
        else (document[section!] ??= {})[name!] = field.value;
      }
      const wrongFields = Object.entries(fields)
        .filter(([, field]) => 'wrong' in field)
        .map(([path]) => path)
        .sort();
      let config: ReturnType<typeof parseConfig>;
      try {
        config = parseConfig(document, '(fuzz)', { env: {} });
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        // edge.buckets[0] and edge: required (no edge section at all) name the same field.
        const named = error.problems.map((problem) => {
          const path = problem.slice(0, problem.indexOf(':')).replace(/\[\d+\]$/, '');
          return path === 'edge' || path === 'core' ? `${path}.${path === 'edge' ? 'buckets' : 'bucket'}` : path;
        });
        assert.deepEqual([...new Set(named)].sort(), wrongFields, error.problems.join('\n'));
        return;
      }
      assert.deepEqual(wrongFields, [], 'a wrong field was accepted');
      loaded += 1;
      const values: Record<string, unknown> = {
        site: config.site,
        'edge.endpoint': config.edge.endpoint,
        'edge.buckets': config.edge.buckets,
        'core.bucket': config.core.bucket,
        'transfer.concurrency': config.transfer.concurrency,
        'transfer.partSize': config.transfer.partSize,
        'scan.interval': config.scan.interval,
        'http.token': config.http.token,
      };
      for (const [path, field] of Object.entries(fields))
        assert.deepEqual(values[path], 'parsed' in field ? field.parsed : undefined, path);
    }),
    { numRuns: 2000 },
  );
  assert.ok(loaded > 50, `only ${loaded} documents were all right`);
});

// ---------------------------------------------------------------------------------------------
// Listings

/** A listing as the generator knows it, and its XML as S3 writes it. */
const listingArb = fc
  .record({
    objects: fc.array(
      fc.record({
        key: fc.string({
          unit: fc.constantFrom('a', 'Z', '0', '/', '.', '-', ' ', '&', '<', '>', '"', "'", 'é', '日'),
          minLength: 1,
          maxLength: 20,
        }),
        etag: fc.stringMatching(/^[0-9a-f]{32}$/),
        size: fc.nat({ max: 2 ** 40 }),
        mtime: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }),
      }),
      { maxLength: 6 },
    ),
    truncated: fc.boolean(),
  })
  .map((listing) => {
    const escape = (text: string) =>
      text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
    const entries = listing.objects
      .map(
        (o) =>
          `<Contents><Key>${escape(o.key)}</Key><LastModified>${o.mtime.toISOString()}</LastModified><ETag>&quot;${o.etag}&quot;</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
      )
      .join('');
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><IsTruncated>${listing.truncated}</IsTruncated>${entries}</ListBucketResult>`;
    return { ...listing, xml };
  });

test('listings: a generated listing parses to exactly its objects; every truncation of it is a transient error of the edge', () => {
  fc.assert(
    fc.property(listingArb, fc.nat(), (listing, cut) => {
      assert.deepEqual(parseListing(listing.xml, 'b'), {
        objects: listing.objects.map((o) => ({ bucket: 'b', key: o.key, etag: o.etag, size: o.size, mtime: o.mtime })),
        isTruncated: listing.truncated,
      });
      // Cut anywhere before its end, the answer must never pass for a (shorter) listing.
      const truncated = listing.xml.slice(0, cut % listing.xml.length);
      assert.throws(() => parseListing(truncated, 'b'), { code: 'TRIB_ERR_EDGE_BAD_RESPONSE', errorClass: 'transient' }, truncated);
    }),
    { numRuns: 2000 },
  );
});

test('listings: arbitrary text is a transient error of the edge, never a crash and never a listing', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', '<a/>', '<ListBucketResult>')), (text) => {
      assert.throws(
        () => parseListing(text, 'b'),
        (error: unknown) => isTributaryError(error) && error.code === 'TRIB_ERR_EDGE_BAD_RESPONSE' && error.errorClass === 'transient',
      );
    }),
    { numRuns: 2000 },
  );
});
