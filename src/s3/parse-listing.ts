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

import { TributaryError, type ErrorCode } from '../core/errors.js';
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
/** Markup the fast parser does not read: the general one takes the page. */
const NOT_PLAIN = /<!|<\?(?!xml[\s?])|<(?:Key|Size|ETag|LastModified|Contents|IsTruncated|EncodingType)\s+[^>]*>/;

/** Any `&` that does not start one of the five XML entities or a numeric reference. */
const OTHER_AMPERSAND = /&(?!(?:amp|lt|gt|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});)/;

function decodeXmlText(text: string): string | undefined {
  if (!text.includes('&')) return text;
  if (OTHER_AMPERSAND.test(text)) return undefined;
  let bad = false;
  const decoded = text.replace(XML_ENTITY, (_, name: string | undefined, decimal: string | undefined, hex: string | undefined) => {
    if (name !== undefined) return NAMED[name]!;
    const point = decimal !== undefined ? Number(decimal) : Number.parseInt(hex!, 16);
    // Not a character XML allows (NUL, a surrogate, beyond Unicode): the general parser decides.
    if (point === 0 || (point >= 0xd800 && point <= 0xdfff) || point > 0x10ffff) bad = true;
    return bad ? '' : String.fromCodePoint(point);
  });
  return bad ? undefined : decoded;
}

function element(block: string, name: string): string | undefined {
  const open = `<${name}>`;
  const start = block.indexOf(open);
  if (start === -1) return undefined;
  const end = block.indexOf(`</${name}>`, start + open.length);
  if (end === -1) return undefined;
  return decodeXmlText(block.slice(start + open.length, end));
}

/** The fast path; undefined when the answer is anything but plain ListBucketResult XML. Exported for the equivalence test. */
export function parseListingFast(xml: string, bucket: string, code: ErrorCode, side: 'edge' | 'core'): Listing | undefined {
  if (NOT_PLAIN.test(xml) || !/<ListBucketResult[\s>]/.test(xml)) return undefined;
  const firstEntry = xml.indexOf('<Contents>');
  const head = firstEntry === -1 ? xml : xml.slice(0, firstEntry);
  const tail = firstEntry === -1 ? '' : xml.slice(xml.lastIndexOf('</Contents>'));
  // IsTruncated and EncodingType come before or after the entries, never inside one.
  const truncated = element(head, 'IsTruncated') ?? element(tail, 'IsTruncated');
  const encoding = element(head, 'EncodingType') ?? element(tail, 'EncodingType');
  const encoded = encoding === 'url';
  const objects: SourceObject[] = [];
  let at = firstEntry;
  while (at !== -1) {
    const end = xml.indexOf('</Contents>', at);
    if (end === -1) return undefined;
    const block = xml.slice(at + '<Contents>'.length, end);
    const key = element(block, 'Key');
    const sizeText = element(block, 'Size');
    const modified = element(block, 'LastModified');
    if (key === undefined || sizeText === undefined || modified === undefined) return undefined;
    const size = Number(sizeText);
    const mtime = new Date(modified);
    if (!Number.isSafeInteger(size) || Number.isNaN(mtime.getTime())) {
      throw new TributaryError(code, `${side} LIST ${bucket}: an entry without a valid Key, Size or LastModified`);
    }
    const etag = block.includes('<ETag>') ? element(block, 'ETag') : '';
    if (etag === undefined) return undefined;
    objects.push({ bucket, key: encoded ? decodeUrlEncoded(key) : key, etag: unquoteEtag(etag), size, mtime });
    at = xml.indexOf('<Contents>', end);
  }
  return { objects, isTruncated: (truncated ?? '').trim() === 'true' };
}

export function parseListing(xml: string, bucket: string, side: 'edge' | 'core' = 'edge'): Listing {
  const code = side === 'edge' ? 'TRIB_ERR_EDGE_BAD_RESPONSE' : 'TRIB_ERR_CORE_BAD_RESPONSE';
  return parseListingFast(xml, bucket, code, side) ?? parseListingGeneral(xml, bucket, side);
}

/** The general path: fast-xml-parser over the whole answer. Exported for the equivalence test. */
export function parseListingGeneral(xml: string, bucket: string, side: 'edge' | 'core' = 'edge'): Listing {
  const code = side === 'edge' ? 'TRIB_ERR_EDGE_BAD_RESPONSE' : 'TRIB_ERR_CORE_BAD_RESPONSE';
  let document: { ListBucketResult?: Record<string, unknown> };
  try {
    document = parser.parse(xml) as typeof document;
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
    const mtime = new Date(String(item['LastModified'] ?? ''));
    if (typeof key !== 'string' || !Number.isSafeInteger(size) || Number.isNaN(mtime.getTime())) {
      throw new TributaryError(code, `${side} LIST ${bucket}: an entry without a valid Key, Size or LastModified`);
    }
    return { bucket, key: encoded ? decodeUrlEncoded(key) : key, etag: unquoteEtag(String(item['ETag'] ?? '')), size, mtime };
  });
  return { objects, isTruncated: String(result['IsTruncated']).trim() === 'true' };
}
