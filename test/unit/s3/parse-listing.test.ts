import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseListing } from '../../../src/s3/parse-listing.js';

const entry = (key: string, size = '5') =>
  `<Contents><Key>${key}</Key><LastModified>2026-11-27T08:00:00.000Z</LastModified><ETag>&quot;abc&quot;</ETag><Size>${size}</Size></Contents>`;

test('keys keep their spaces, digits stay text, entities are decoded exactly once', () => {
  const xml = `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><IsTruncated>true</IsTruncated>${entry(' 0123 ')}${entry('a&amp;b&lt;c&#x27;d')}${entry('&amp;copy;')}</ListBucketResult>`;
  const listing = parseListing(xml, 'b');
  assert.deepEqual(
    listing.objects.map((o) => o.key),
    [' 0123 ', "a&b<c'd", '&copy;'],
  );
  assert.equal(listing.objects[0]!.etag, 'abc');
  assert.equal(listing.objects[0]!.size, 5);
  assert.equal(listing.objects[0]!.mtime.toISOString(), '2026-11-27T08:00:00.000Z');
  assert.equal(listing.isTruncated, true);
});

test('url-encoded keys are decoded when the answer says EncodingType url', () => {
  const xml = `<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>${entry('ctrl/%01x+y%2B')}</ListBucketResult>`;
  assert.deepEqual(parseListing(xml, 'b').objects.map((o) => o.key), ['ctrl/\u0001x y+']);
});

test('an empty listing, and malformed answers are transient errors that name the bucket', () => {
  assert.deepEqual(parseListing('<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>', 'b').objects, []);
  assert.throws(() => parseListing('<Error><Code>X</Code></Error>', 'b'), { code: 'TRIB_ERR_EDGE_BAD_RESPONSE', message: /LIST b/ });
  assert.throws(() => parseListing(`<ListBucketResult>${entry('k', 'many')}</ListBucketResult>`, 'b'), { code: 'TRIB_ERR_EDGE_BAD_RESPONSE' });
});
