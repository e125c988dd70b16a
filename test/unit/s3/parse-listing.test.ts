import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { parseListing, parseListingFast, parseListingGeneral } from '../../../src/s3/parse-listing.js';

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
  assert.deepEqual(
    parseListing(xml, 'b').objects.map((o) => o.key),
    ['ctrl/\u0001x y+'],
  );
});

test('an empty listing, and malformed answers are transient errors that name the bucket', () => {
  assert.deepEqual(parseListing('<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>', 'b').objects, []);
  assert.throws(() => parseListing('<Error><Code>X</Code></Error>', 'b'), { code: 'TRIB_ERR_EDGE_BAD_RESPONSE', message: /LIST b/ });
  assert.throws(() => parseListing(`<ListBucketResult>${entry('k', 'many')}</ListBucketResult>`, 'b'), {
    code: 'TRIB_ERR_EDGE_BAD_RESPONSE',
  });
});

// ---------------------------------------------------------------------------------------------
// The fast parser against the general one (fast-xml-parser) on generated listings.

const CHARS = [
  'a',
  'Z',
  '0',
  '/',
  '.',
  '-',
  '_',
  ' ',
  '\t',
  '\n',
  '&',
  '<',
  '>',
  '"',
  "'",
  '%',
  '+',
  '#',
  '?',
  'é',
  'ß',
  '日',
  '😀',
  ';',
  '=',
  'x',
];
const NAMED_ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** XML text for `text`, each character escaped one of the ways servers do it (or not at all when allowed). */
function escapeXml(text: string, ways: readonly number[]): string {
  return Array.from(text)
    .map((char, i) => {
      const way = ways[i % ways.length]!;
      const point = char.codePointAt(0)!;
      const numeric = way % 2 === 0 ? `&#${point};` : `&#x${point.toString(16).toUpperCase()};`;
      if (char in NAMED_ENTITY)
        return way < 2 && char !== '&' && char !== '<' ? char.replace('>', '&gt;') : way < 5 ? NAMED_ENTITY[char]! : numeric;
      return way === 7 ? numeric : char;
    })
    .join('');
}

const entryArb = fc.record({
  key: fc.array(fc.constantFrom(...CHARS), { minLength: 1, maxLength: 40 }).map((chars) => chars.join('')),
  ways: fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 8 }),
  size: fc.nat({ max: 2 ** 40 }),
  etag: fc.oneof(
    fc.constant('&quot;0123456789abcdef0123456789abcdef&quot;'),
    fc.constant('"abc-2"'),
    fc.constant('&#34;x&#34;'),
    fc.constant(''),
  ),
  owner: fc.boolean(),
  spaced: fc.boolean(),
});

const listingArb = fc.record({
  entries: fc.array(entryArb, { maxLength: 30 }),
  truncated: fc.constantFrom('true', 'false', ' true '),
  truncatedAfter: fc.boolean(),
  urlEncoded: fc.boolean(),
  prefixes: fc.array(fc.constantFrom('a/', 'b &amp; c/', 'd/'), { maxLength: 3 }),
});

type GeneratedListing = typeof listingArb extends fc.Arbitrary<infer T> ? T : never;

function renderListing(listing: GeneratedListing): string {
  const nl = (spaced: boolean) => (spaced ? '\n    ' : '');
  const entries = listing.entries
    .map((e) => {
      const key = listing.urlEncoded ? encodeURIComponent(e.key) : escapeXml(e.key, e.ways);
      return (
        `<Contents>${nl(e.spaced)}<Key>${key}</Key>${nl(e.spaced)}<LastModified>2026-11-27T08:00:0${e.size % 10}.000Z</LastModified>` +
        `${e.etag === '' ? '' : `<ETag>${e.etag}</ETag>`}<Size>${e.size}</Size>` +
        `${e.owner ? '<Owner><ID>abc</ID><DisplayName>Me &amp; you</DisplayName></Owner>' : ''}<StorageClass>STANDARD</StorageClass></Contents>`
      );
    })
    .join('\n  ');
  const truncated = `<IsTruncated>${listing.truncated}</IsTruncated>`;
  const prefixes = listing.prefixes.map((p) => `<CommonPrefixes><Prefix>${p}</Prefix></CommonPrefixes>`).join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix>` +
    `${listing.urlEncoded ? '<EncodingType>url</EncodingType>' : ''}${listing.truncatedAfter ? '' : truncated}<KeyCount>${listing.entries.length}</KeyCount>` +
    `${entries}${prefixes}${listing.truncatedAfter ? truncated : ''}</ListBucketResult>`
  );
}

test('the fast parser reads generated listings exactly as fast-xml-parser does', () => {
  fc.assert(
    fc.property(listingArb, (listing) => {
      const xml = renderListing(listing);
      const fast = parseListingFast(xml, 'b');
      assert.ok(fast !== undefined, `the fast path took the page: ${xml.slice(0, 300)}`);
      assert.deepEqual(fast, parseListingGeneral(xml, 'b'));
      assert.deepEqual(
        fast.objects.map((o) => o.key),
        listing.entries.map((e) => e.key),
      );
    }),
    { numRuns: 400 },
  );
});

test('anything but plain listing XML goes to the general parser, with the same result', () => {
  const cases = [
    `<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key><![CDATA[a<b]]></Key><LastModified>2026-11-27T08:00:00.000Z</LastModified><Size>1</Size></Contents></ListBucketResult>`,
    `<ListBucketResult><!-- note --><IsTruncated>false</IsTruncated>${entry('k')}</ListBucketResult>`,
    `<ListBucketResult><IsTruncated>false</IsTruncated>${entry('&copy; 2026')}</ListBucketResult>`,
    `<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key xml:space="preserve"> k</Key><LastModified>2026-11-27T08:00:00.000Z</LastModified><Size>1</Size></Contents></ListBucketResult>`,
    `<ListBucketResult><IsTruncated>false</IsTruncated>${entry('nul&#0;')}</ListBucketResult>`,
    // Found by review: each of these once gave a different answer on the fast path.
    `<ListBucketResult><IsTruncated>false</IsTruncated>${entry('ctrl&#x1;x')}</ListBucketResult>`,
    `<ListBucketResult><IsTruncated>false</IsTruncated>${entry('cr\r\nlf')}</ListBucketResult>`,
    `<ListBucketResult>${entry('a')}<IsTruncated>true</IsTruncated>${entry('b')}</ListBucketResult>`,
    `<ListBucketResult><IsTruncated>false</IsTruncated>${entry('a').replace('</Contents>', '</Contents >')}${entry('b')}</ListBucketResult>`,
    `<ListBucketResult><IsTruncated>false</IsTruncated><Contents/>${entry('a')}</ListBucketResult>`,
    `<ListBucketResult><IsTruncated>false</IsTruncated>${entry('a').replace('<ETag>', '<Owner><ETag>"owner"</ETag></Owner><ETag>')}</ListBucketResult>`,
    `<ListBucketResult><IsTruncated>true</IsTruncated><IsTruncated>false</IsTruncated>${entry('a')}</ListBucketResult>`,
    `<Error><ListBucketResult>${entry('a')}</ListBucketResult></Error>`,
  ];
  for (const xml of cases) {
    assert.equal(parseListingFast(xml, 'b'), undefined, xml);
    let general: ReturnType<typeof parseListingGeneral> | Error;
    try {
      general = parseListingGeneral(xml, 'b');
    } catch (error) {
      general = error as Error;
    }
    if (general instanceof Error) assert.throws(() => parseListing(xml, 'b'), { message: general.message }, xml);
    else assert.deepEqual(parseListing(xml, 'b'), general, xml);
  }
  assert.deepEqual(
    parseListing(cases[2]!, 'b').objects.map((o) => o.key),
    ['© 2026'],
  );
  // An answer that is no listing at all is refused the same way on both paths.
  assert.throws(() => parseListing('<Error><Code>SlowDown</Code></Error>', 'b', 'core'), {
    code: 'TRIB_ERR_CORE_BAD_RESPONSE',
    message: /not a ListBucketResult/,
  });
});
