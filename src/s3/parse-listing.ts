/**
 * Parses a ListObjectsV2 answer (ListBucketResult XML). Values are kept as text (a key "0123"
 * stays a string), surrounding spaces are kept (they are part of keys), entities are decoded, and
 * url-encoded keys (EncodingType=url) are decoded.
 *
 * Two parsers give the same result. The fast one reads the few elements a listing needs with
 * regular expressions: a scan re-lists every object of the site every `scan.interval`, and the
 * general XML parser cost about 40 µs per listed object (most of a steady-state scan's CPU). It
 * handles the XML that S3 and S3-compatible servers write: elements without attributes, the five
 * XML entities and numeric character references. Anything else in the answer (CDATA, comments,
 * a DOCTYPE, another entity, an element it cannot find) hands the whole page to fast-xml-parser,
 * which also makes every error message. test/unit/s3/parse-listing.test.ts checks the two agree on
 * generated listings.
 */
import { XMLParser } from 'fast-xml-parser';

import { TributaryError } from '../core/errors.js';
import type { SourceObject } from '../ports/source-store.js';

export interface Listing {
  readonly objects: SourceObject[];
  readonly isTruncated: boolean;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  // Numeric character references (&#x27;) are XML too; named HTML entities never appear in S3
  // answers, and a key's own "&copy;" arrives as "&amp;copy;" and is decoded only once.
  // Deprecated in 5.x for a hand-written `entityDecoder`; it still works, and parse-listing's
  // tests of numeric references fail loudly if it stops.
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  htmlEntities: true,
  isArray: (name) => name === 'Contents',
});

export function unquoteEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^W\//, '').replace(/^"+|"+$/g, '');
}

function decodeUrlEncoded(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

const XML_ENTITY = /&(?:(amp|lt|gt|quot|apos)|#(\d{1,7})|#x([0-9a-fA-F]{1,6}));/g;
const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
/**
 * Markup the fast parser does not read (the general one then takes the page): comments, CDATA,
 * DOCTYPE, processing instructions, carriage returns (XML normalises line ends), closing tags
 * with spaces, self-closing tags, and attributes on any element but the root.
 */
const NOT_PLAIN = /<!|<\?(?!xml[\s?])|\r|<\/[^>]*\s>|\/>|<(?!ListBucketResult[\s>]|\?xml)[A-Za-z][^>\s]*\s[^>]*>/;
const ROOT = /^\uFEFF?\s*(?:<\?xml[^>]*\?>\s*)?<ListBucketResult[\s>][\s\S]*<\/ListBucketResult>\s*$/;

/** Any `&` that does not start one of the five XML entities or a numeric reference. */
const OTHER_AMPERSAND = /&(?!(?:amp|lt|gt|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});)/;

function decodeXmlText(text: string): string | undefined {
  if (!text.includes('&')) return text;
  if (OTHER_AMPERSAND.test(text)) return undefined;
  let bad = false;
  const decoded = text.replace(XML_ENTITY, (_, name: string | undefined, decimal: string | undefined, hex: string | undefined) => {
    if (name !== undefined) return NAMED[name]!;
    const point = decimal !== undefined ? Number(decimal) : Number.parseInt(hex!, 16);
    // Not a character XML 1.0 allows (controls but tab, LF and CR; surrogates; beyond Unicode):
    // the general parser decides what it makes of it.
    if ((point < 0x20 && point !== 0x9 && point !== 0xa && point !== 0xd) || (point >= 0xd800 && point <= 0xdfff) || point > 0x10ffff)
      bad = true;
    return bad ? '' : String.fromCodePoint(point);
  });
  return bad ? undefined : decoded;
}

function count(text: string, needle: string): number {
  let n = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) n += 1;
  return n;
}

/**
 * The text of the one `<name>` child of `block` (undefined when absent, repeated, nested inside
 * another element, or holding markup).
 */
function element(block: string, name: string, direct = true): string | undefined {
  const open = `<${name}>`;
  const start = block.indexOf(open);
  if (start === -1 || block.includes(open, start + open.length)) return undefined;
  const end = block.indexOf(`</${name}>`, start + open.length);
  if (end === -1) return undefined;
  const before = block.slice(0, start);
  if (direct && count(before, '<') !== 2 * count(before, '</')) return undefined;
  const text = block.slice(start + open.length, end);
  return text.includes('<') ? undefined : decodeXmlText(text);
}

/** The text of a leaf element; an element with children (a malformed answer) has none. */
function textOf(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

/**
 * The fast path; undefined when the answer is anything but plain ListBucketResult XML, or an
 * entry is invalid (the general path then makes the error). Exported for the equivalence test.
 */
export function parseListingFast(xml: string, bucket: string): Listing | undefined {
  if (NOT_PLAIN.test(xml) || !ROOT.test(xml) || count(xml, '<ListBucketResult') !== 1) return undefined;
  const firstEntry = xml.indexOf('<Contents>');
  const head = firstEntry === -1 ? xml : xml.slice(0, firstEntry);
  const tail = firstEntry === -1 ? '' : xml.slice(xml.lastIndexOf('</Contents>'));
  if (/<CommonPrefixes>(?:(?!<\/CommonPrefixes>)[\s\S])*<(?:IsTruncated|EncodingType|Contents)>/.test(xml)) return undefined;
  // A field of the result itself: '' when absent; undefined when repeated or among the entries
  // (the gaps between entries are checked to be blank below).
  const field = (name: string): string | undefined => {
    const open = `<${name}>`;
    const inHead = count(head, open);
    const all = count(xml, open);
    if (all === 0) return '';
    if (all > 1 || inHead + count(tail, open) !== 1) return undefined;
    return element(inHead === 1 ? head : tail, name, false);
  };
  const truncated = field('IsTruncated');
  const encoding = field('EncodingType');
  if (truncated === undefined || encoding === undefined) return undefined;
  const encoded = encoding === 'url';
  const objects: SourceObject[] = [];
  let at = firstEntry;
  while (at !== -1) {
    const end = xml.indexOf('</Contents>', at);
    if (end === -1) return undefined;
    const block = xml.slice(at + '<Contents>'.length, end);
    if (block.includes('<Contents>')) return undefined;
    const key = element(block, 'Key');
    const sizeText = element(block, 'Size');
    const modified = element(block, 'LastModified');
    if (key === undefined || sizeText === undefined || modified === undefined) return undefined;
    const size = Number(sizeText);
    const mtime = new Date(modified);
    if (!Number.isSafeInteger(size) || size < 0 || Number.isNaN(mtime.getTime())) return undefined;
    const etag = block.includes('<ETag>') ? element(block, 'ETag') : '';
    if (etag === undefined) return undefined;
    objects.push({ bucket, key: encoded ? decodeUrlEncoded(key) : key, etag: unquoteEtag(etag), size, mtime });
    at = xml.indexOf('<Contents>', end);
    if (at !== -1 && xml.slice(end + '</Contents>'.length, at).trim() !== '') return undefined;
  }
  return { objects, isTruncated: truncated.trim() === 'true' };
}

/** True when `key` sorts after `previous` the way S3 lists keys: by their UTF-8 bytes. */
function keyAfter(key: string, previous: string): boolean {
  return Buffer.compare(Buffer.from(key, 'utf8'), Buffer.from(previous, 'utf8')) > 0;
}

/**
 * The key the next page starts after, or undefined when the listing is complete. Keys come in
 * UTF-8 byte order after start-after; a truncated page that does not get past it (a server that
 * ignores start-after) would be asked for again and again, so it is refused. `operation` names
 * the listing in the message (`edge LIST telemetry`).
 */
export function nextStartAfter(
  listing: Listing,
  startAfter: string | undefined,
  operation: string,
  side: 'edge' | 'core' = 'edge',
): string | undefined {
  if (!listing.isTruncated) return undefined;
  const code = side === 'edge' ? 'TRIB_ERR_EDGE_BAD_RESPONSE' : 'TRIB_ERR_CORE_BAD_RESPONSE';
  const last = listing.objects.at(-1);
  if (last === undefined) throw new TributaryError(code, `${operation}: truncated listing with no keys`);
  if (startAfter !== undefined && !keyAfter(last.key, startAfter)) {
    throw new TributaryError(
      code,
      `${operation}: the page after ${JSON.stringify(startAfter)} ends at ${JSON.stringify(last.key)}, which is not after it (does the server ignore start-after?)`,
    );
  }
  return last.key;
}

export function parseListing(xml: string, bucket: string, side: 'edge' | 'core' = 'edge'): Listing {
  return parseListingFast(xml, bucket) ?? parseListingGeneral(xml, bucket, side);
}

/** The general path: fast-xml-parser over the whole answer. Exported for the equivalence test. */
export function parseListingGeneral(xml: string, bucket: string, side: 'edge' | 'core' = 'edge'): Listing {
  const code = side === 'edge' ? 'TRIB_ERR_EDGE_BAD_RESPONSE' : 'TRIB_ERR_CORE_BAD_RESPONSE';
  let document: { ListBucketResult?: Record<string, unknown> };
  try {
    // Validated first: without it, fast-xml-parser reads a truncated answer as far as it goes,
    // and a listing cut short would pass for a complete one (fewer objects, "not truncated").
    // Deprecated in 5.x for the separate fast-xml-validator package; it still works, and the
    // fuzz test of truncated listings (test/unit/fuzz/hostile-input.test.ts) fails if it stops.
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    document = parser.parse(xml, true) as typeof document;
  } catch (error) {
    throw new TributaryError(code, `${side} LIST ${bucket}: malformed XML: ${(error as Error).message}`, { cause: error });
  }
  const result = document.ListBucketResult;
  if (result === undefined || typeof result !== 'object') {
    throw new TributaryError(code, `${side} LIST ${bucket}: the answer is not a ListBucketResult`);
  }
  const encoded = result['EncodingType'] === 'url';
  const contents = (result['Contents'] ?? []) as Record<string, unknown>[];
  const objects = contents.map((item): SourceObject => {
    const key = item['Key'];
    const size = Number(item['Size']);
    const mtime = new Date(textOf(item['LastModified']));
    if (typeof key !== 'string' || !Number.isSafeInteger(size) || size < 0 || Number.isNaN(mtime.getTime())) {
      const what = typeof key === 'string' ? `the entry for ${JSON.stringify(encoded ? decodeUrlEncoded(key) : key)}` : 'an entry';
      throw new TributaryError(
        code,
        `${side} LIST ${bucket}: ${what} has no valid Key, Size or LastModified (Size ${JSON.stringify(item['Size'] ?? null)}, LastModified ${JSON.stringify(item['LastModified'] ?? null)})`,
      );
    }
    return { bucket, key: encoded ? decodeUrlEncoded(key) : key, etag: unquoteEtag(textOf(item['ETag'])), size, mtime };
  });
  return { objects, isTruncated: String(result['IsTruncated']).trim() === 'true' };
}
