/**
 * Core keys: where a source object lands in the core bucket.
 *
 * A core key is a key template (default `{site}/{bucket}/{key}`) rendered for one source object.
 * The rendering keeps these invariants for every source key, however odd:
 *
 * 1. Contained: the core key starts with `<site>/`, has no leading `/`, and has no segment
 *    (split on `/`) that is empty, `.` or `..`. Nothing an edge writes can escape its site's
 *    prefix, not even in tools that normalise paths.
 * 2. Injective: two different source keys of the same site, bucket and mtime never produce the
 *    same core key (the over-long form relies on SHA-256 not colliding).
 * 3. Verbatim where possible: a plain key (see {@link isPlainKey}) lands unchanged as `{key}`.
 * 4. Bounded: the core key is at most {@link MAX_CORE_KEY_BYTES} bytes of UTF-8.
 *
 * The `{key}` part takes exactly one of three shapes, told apart by how it starts:
 * - plain key, verbatim: contains no backslash at all;
 * - odd key, escaped ({@link escapeOddKey}): one backslash, then a character that is not one
 *   (escaping turns every other backslash into `%5C`);
 * - over-long key: two backslashes, a readable prefix of the plain or escaped key, `~` and the
 *   64-hex SHA-256 of the source key.
 *
 * The template is validated so that the part before `{key}` always has the same number of
 * segments and `{key}` is a whole trailing segment; with site and bucket names that contain no
 * `/`, the prefix and the key part of a core key can therefore always be told apart.
 *
 * Source keys are kept as given: no Unicode normalisation (NFC and NFD spellings are different
 * S3 keys and stay different) and no decoding of `%`, `+` or anything else in plain keys.
 */

import { createHash } from 'node:crypto';

import { TributaryError } from './errors.js';

/** What a core key is rendered from: the source object's site, bucket, key and mtime. */
export interface CoreKeyInput {
  /** Site name from the config; must be one non-empty path segment. */
  site: string;
  /** Source (edge) bucket name; must be one non-empty path segment. */
  bucket: string;
  /** Source object key, exactly as listed by the edge store. */
  key: string;
  /** Source object last-modified time; the date tokens use its UTC parts. */
  mtime: Date;
}

/** S3's limit on the length of an object key, in bytes of UTF-8. */
export const MAX_CORE_KEY_BYTES = 1024;

const KNOWN_TOKENS = new Set(['site', 'bucket', 'key', 'yyyy', 'mm', 'dd', 'hh']);
const TOKEN = /\{([^{}]*)\}/g;
const KEY_SUFFIX = '/{key}';
const OVERLONG_MARKER = '\\\\';
const HASH_SEPARATOR = '~';
const HASH_HEX_LENGTH = 64;
/** Lone UTF-16 surrogates: such a string has no UTF-8 form, so it cannot be an S3 key. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Checks a key template and lists what is wrong with it.
 *
 * Rules: only the tokens `{site}` `{bucket}` `{key}` `{yyyy}` `{mm}` `{dd}` `{hh}`; it starts
 * with `{site}/`; it contains `{key}` exactly once, as its own last segment (it ends with
 * `/{key}`); it contains `{bucket}` when the site has more than one bucket; no segment before
 * `{key}` is empty, `.` or `..`; no backslash and no brace outside a token.
 *
 * @param template the template from the config
 * @param bucketCount how many source buckets the site replicates
 * @returns short lowercase problem descriptions; empty when the template is fine
 */
export function validateKeyTemplate(template: string, bucketCount: number): string[] {
  const problems: string[] = [];
  const add = (problem: string): void => {
    if (!problems.includes(problem)) problems.push(problem);
  };

  let keyCount = 0;
  let hasBucket = false;
  for (const match of template.matchAll(TOKEN)) {
    const name = match[1] ?? '';
    if (!KNOWN_TOKENS.has(name)) add(`unknown token "{${name}}"`);
    if (name === 'key') keyCount += 1;
    if (name === 'bucket') hasBucket = true;
  }
  if (/[{}]/.test(template.replace(TOKEN, ''))) add('unbalanced "{" or "}"');

  if (!template.startsWith('{site}/')) add('must start with "{site}/"');
  if (keyCount === 0) add('must contain "{key}"');
  if (keyCount > 1) add('must contain "{key}" only once');
  if (keyCount > 0 && !template.endsWith('{key}')) add('must end with "{key}"');
  else if (keyCount > 0 && !template.endsWith(KEY_SUFFIX)) add('"{key}" must follow a "/"');
  if (bucketCount > 1 && !hasBucket) add('must contain "{bucket}" when the site has several buckets');
  if (template.includes('\\')) add('must not contain a backslash');

  const prefix = template.endsWith(KEY_SUFFIX) ? template.slice(0, -KEY_SUFFIX.length) : template;
  for (const segment of prefix.split('/')) {
    if (segment === '') add('must not contain an empty segment');
    else if (segment === '.' || segment === '..') add(`must not contain a "${segment}" segment`);
  }
  return problems;
}

/**
 * Tells whether a source key can land verbatim: it is non-empty, contains no backslash, and no
 * segment (split on `/`) is empty, `.` or `..` (so no leading, trailing or doubled `/`).
 */
export function isPlainKey(key: string): boolean {
  if (key === '' || key.includes('\\')) return false;
  return key.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/**
 * Renders a non-plain source key as the `{key}` part: a leading backslash as the marker, then
 * each `/`-separated segment encoded and joined again with `/`. Inside a segment `%` becomes
 * `%25` and `\` becomes `%5C`; then a segment that is exactly `.` becomes `%2E`, `..` becomes
 * `%2E%2E`, and an empty one becomes `%00`.
 *
 * The result has no empty, `.` or `..` segment and no backslash after the marker, and different
 * keys give different results (every `%` of a segment is re-encoded, so `%2E`, `%00`, `%5C` and
 * `%25` can only come from the encoding). Examples: `../x` → `\%2E%2E/x`, `//d` → `\%00/%00/d`,
 * `a\b` → `\a%5Cb`, `` (empty) → `\%00`.
 */
export function escapeOddKey(key: string): string {
  return '\\' + key.split('/').map(escapeSegment).join('/');
}

function escapeSegment(segment: string): string {
  if (segment === '') return '%00';
  if (segment === '.') return '%2E';
  if (segment === '..') return '%2E%2E';
  return segment.replaceAll('%', '%25').replaceAll('\\', '%5C');
}

/** The template the last call validated: a site renders every key with the same one. */
let lastValidTemplate: string | undefined;

/**
 * Renders the core key of one source object.
 *
 * The `{key}` part is the source key itself when it is plain, {@link escapeOddKey} of it
 * otherwise. When the whole core key would be longer than {@link MAX_CORE_KEY_BYTES} bytes of
 * UTF-8, the `{key}` part becomes two backslashes, the longest prefix of that plain or escaped
 * form that fits (cut between characters and never inside a `%XX` escape), `~` and the 64-hex
 * SHA-256 of the source key.
 *
 * @throws TributaryError `TRIB_ERR_CONFIG_INVALID` when the template, site or bucket is invalid;
 *   `TRIB_ERR_KEY_UNMAPPABLE` when the key is not well-formed Unicode or when even the
 *   over-long form does not fit (the rendered prefix alone is too long).
 */
export function renderCoreKey(template: string, input: CoreKeyInput): string {
  if (template !== lastValidTemplate) {
    const problems = validateKeyTemplate(template, 1);
    if (problems.length > 0) {
      throw new TributaryError('TRIB_ERR_CONFIG_INVALID', `invalid key template "${template}": ${problems.join('; ')}`);
    }
    lastValidTemplate = template;
  }
  checkName('site', input.site);
  checkName('bucket', input.bucket);
  if (Number.isNaN(input.mtime.getTime())) {
    throw new TributaryError('TRIB_ERR_INTERNAL', `invalid mtime for key ${JSON.stringify(input.key)}`);
  }
  if (LONE_SURROGATE.test(input.key)) {
    throw new TributaryError('TRIB_ERR_KEY_UNMAPPABLE', `source key ${JSON.stringify(input.key)} is not valid Unicode`);
  }

  const prefix = renderPrefix(template.slice(0, -'{key}'.length), input);
  const plain = isPlainKey(input.key);
  const keyPart = plain ? input.key : escapeOddKey(input.key);
  const prefixBytes = utf8Length(prefix);
  if (prefixBytes + utf8Length(keyPart) <= MAX_CORE_KEY_BYTES) return prefix + keyPart;

  const budget = MAX_CORE_KEY_BYTES - prefixBytes - OVERLONG_MARKER.length - HASH_SEPARATOR.length - HASH_HEX_LENGTH;
  if (budget < 0) {
    throw new TributaryError(
      'TRIB_ERR_KEY_UNMAPPABLE',
      `core key prefix "${prefix}" is ${prefixBytes} bytes: no room for a key within ${MAX_CORE_KEY_BYTES} bytes`,
    );
  }
  const hash = createHash('sha256').update(input.key, 'utf8').digest('hex');
  return prefix + OVERLONG_MARKER + cutToBytes(keyPart, budget, !plain) + HASH_SEPARATOR + hash;
}

function checkName(what: 'site' | 'bucket', name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\\')) {
    throw new TributaryError(
      'TRIB_ERR_CONFIG_INVALID',
      `${what} name ${JSON.stringify(name)} cannot be used in a core key: it must be one path segment`,
    );
  }
}

function renderPrefix(template: string, input: CoreKeyInput): string {
  const { mtime } = input;
  return template.replace(TOKEN, (_whole, name: string) => {
    switch (name) {
      case 'site':
        return input.site;
      case 'bucket':
        return input.bucket;
      case 'yyyy':
        return String(mtime.getUTCFullYear()).padStart(4, '0');
      case 'mm':
        return pad2(mtime.getUTCMonth() + 1);
      case 'dd':
        return pad2(mtime.getUTCDate());
      case 'hh':
        return pad2(mtime.getUTCHours());
      default:
        throw new TributaryError('TRIB_ERR_INTERNAL', `unexpected token "{${name}}" in key template`);
    }
  });
}

function pad2(value: number): string {
  return String(value).padStart(2, '0');
}

/** Bytes of the UTF-8 encoding of a well-formed string. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) bytes += utf8CharLength(char);
  return bytes;
}

function utf8CharLength(char: string): number {
  const codePoint = char.codePointAt(0) ?? 0;
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  if (codePoint < 0x10000) return 3;
  return 4;
}

/**
 * The longest prefix of `text` of at most `budget` UTF-8 bytes, cut between code points. In an
 * escaped key every `%` starts a three-character escape, so a cut that would end inside one is
 * moved back to before its `%`.
 */
function cutToBytes(text: string, budget: number, escaped: boolean): string {
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = utf8CharLength(char);
    if (bytes + size > budget) break;
    bytes += size;
    end += char.length;
  }
  let cut = text.slice(0, end);
  if (escaped && end < text.length) {
    if (cut.endsWith('%')) cut = cut.slice(0, -1);
    else if (cut.at(-2) === '%') cut = cut.slice(0, -2);
  }
  return cut;
}
