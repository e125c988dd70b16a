/**
 * Hostile input, property-based (fast-check): arbitrary JSON, deeply nested and wrongly typed
 * values for the event parser and the config loader, and arbitrary bytes for the listing parser.
 * Each must answer with its own clear error or a result: never crash, never another exception.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { ConfigError, parseConfig } from '../../../src/config/load.js';
import { EventBodyError, parseS3Events } from '../../../src/detect/s3-events.js';
import { isTributaryError } from '../../../src/core/errors.js';
import { parseListing } from '../../../src/s3/parse-listing.js';

const now = new Date('2026-11-27T12:00:00Z');

// Values shaped like event records, with every field sometimes wrong.
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, fc.anything(), fc.constant(undefined));
const recordArb = fc.record({
  eventSource: maybe(fc.constantFrom('aws:s3', 'minio:s3', 'ceph:s3')),
  eventName: maybe(fc.constantFrom('ObjectCreated:Put', 's3:ObjectCreated:Copy', 'ObjectRemoved:Delete', 'ObjectRestore:Post')),
  eventTime: maybe(fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toISOString()))),
  s3: maybe(
    fc.record({
      bucket: maybe(fc.record({ name: maybe(fc.string()) })),
      object: maybe(fc.record({ key: maybe(fc.string()), size: maybe(fc.oneof(fc.integer(), fc.string())), eTag: maybe(fc.string()) })),
    }),
  ),
});

test('event bodies: any JSON value gives events or an EventBodyError, never anything else', () => {
  fc.assert(
    fc.property(fc.oneof(fc.anything(), fc.record({ Records: fc.oneof(fc.array(recordArb, { maxLength: 8 }), fc.anything()) })), (body) => {
      try {
        const parsed = parseS3Events(body, 'auto', now);
        for (const object of parsed.created) {
          assert.equal(typeof object.key, 'string');
          assert.ok(object.key.length > 0);
          assert.ok(Number.isSafeInteger(object.size) && object.size >= 0);
        }
      } catch (error) {
        if (!(error instanceof EventBodyError)) throw error;
        assert.ok(error.message.length > 0);
      }
    }),
    { numRuns: 3000 },
  );
});

test('event bodies: deeply nested input is refused, not a stack overflow', () => {
  let deep: unknown = {};
  for (let i = 0; i < 10_000; i += 1) deep = { Records: [deep] };
  assert.throws(() => parseS3Events(deep, 'auto', now), EventBodyError);
});

test('config: any document gives a config or a ConfigError whose every problem names a field', () => {
  const section = fc.dictionary(
    fc.constantFrom('endpoint', 'bucket', 'buckets', 'concurrency', 'partSize', 'interval', 'listen', 'token', 'x'),
    fc.anything(),
    { maxKeys: 4 },
  );
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
          assert.ok(error.problems.length > 0);
          for (const problem of error.problems) assert.match(problem, /^\S.*: .+/, problem);
        }
      },
    ),
    { numRuns: 2000 },
  );
});

test('listings: arbitrary or truncated XML is a transient error of the edge, never a crash', () => {
  const valid =
    '<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><LastModified>2026-11-27T00:00:00Z</LastModified><ETag>"e"</ETag><Size>1</Size></Contents></ListBucketResult>';
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.nat({ max: valid.length }).map((n) => valid.slice(0, n)),
      ),
      (xml) => {
        try {
          parseListing(xml, 'b');
        } catch (error) {
          assert.ok(isTributaryError(error), String(error));
          assert.equal(error.code, 'TRIB_ERR_EDGE_BAD_RESPONSE');
          assert.equal(error.errorClass, 'transient');
        }
      },
    ),
    { numRuns: 2000 },
  );
});
