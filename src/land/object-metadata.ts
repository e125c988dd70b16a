/**
 * What a core object carries besides its bytes: the edge object's content headers (Content-Type,
 * Content-Encoding, Content-Language, Content-Disposition, Cache-Control, Expires) and its user
 * metadata, as the edge sent them, with the lineage entries (lineage.ts) next to them.
 *
 * Two things cannot land, and each is a per-object error rather than an entry quietly dropped:
 * - a user entry with a lineage entry's name (TRIB_ERR_METADATA_CONFLICT): one of the two would
 *   have to go, and the lake could no longer tell where the object came from;
 * - user metadata over S3's limit of 2 KiB once the lineage is added (TRIB_ERR_METADATA_TOO_LARGE),
 *   counted as S3 counts it: the UTF-8 bytes of every name (without `x-amz-meta-`) and value.
 * Both are permanent: the object is dead until the edge object is fixed, then `tributary retry`.
 */
import { TributaryError } from '../core/errors.js';
import { CONTENT_HEADERS, USER_METADATA_PREFIX, type ObjectHeaders } from '../core/object-headers.js';
import { META } from './lineage.js';

/** S3's limit on the user metadata of one object, in bytes. */
export const USER_METADATA_LIMIT_BYTES = 2048;

const LINEAGE_NAMES: ReadonlySet<string> = new Set(Object.values(META));

/** True for the names Tributary's lineage entries use. */
export function isLineageName(name: string): boolean {
  return LINEAGE_NAMES.has(name.toLowerCase());
}

/** The size S3 counts against its limit: UTF-8 bytes of every name (without the prefix) and value. */
export function metadataBytes(metadata: Readonly<Record<string, string>>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(metadata)) bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value, 'utf8');
  return bytes;
}

/** The entries of a core object's metadata that are not lineage: the edge's user metadata. */
export function userMetadataOf(metadata: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).filter(([name]) => !isLineageName(name)));
}

/**
 * What the core copy of an edge object carries: the edge's content headers, and its user metadata
 * with the lineage entries. Throws TRIB_ERR_METADATA_CONFLICT or TRIB_ERR_METADATA_TOO_LARGE,
 * naming the object, when it cannot land as it is.
 */
export function coreObjectHeaders(
  edge: ObjectHeaders,
  lineage: Readonly<Record<string, string>>,
  object: { readonly bucket: string; readonly key: string },
): ObjectHeaders {
  const where = `edge ${object.bucket}/${object.key}`;
  const conflicts = Object.keys(edge.metadata).filter(isLineageName).sort();
  if (conflicts.length > 0) {
    const names = conflicts.map((name) => `${USER_METADATA_PREFIX}${name}`).join(', ');
    throw new TributaryError(
      'TRIB_ERR_METADATA_CONFLICT',
      `${where}: user metadata ${names} has the name of a lineage entry Tributary writes; rename or remove it at the edge, then tributary retry`,
    );
  }
  const userBytes = metadataBytes(edge.metadata);
  const lineageBytes = metadataBytes(lineage);
  if (userBytes + lineageBytes > USER_METADATA_LIMIT_BYTES) {
    throw new TributaryError(
      'TRIB_ERR_METADATA_TOO_LARGE',
      `${where}: user metadata of ${userBytes} bytes and lineage of ${lineageBytes} bytes make ${userBytes + lineageBytes}, over S3's limit of ${USER_METADATA_LIMIT_BYTES} (UTF-8 bytes of names without ${USER_METADATA_PREFIX} and values)`,
    );
  }
  return { content: { ...edge.content }, metadata: { ...edge.metadata, ...lineage } };
}

/** One header a copy carries differently: its name as on the wire, and both values (undefined: absent). */
export interface HeaderDifference {
  readonly header: string;
  readonly expected: string | undefined;
  readonly actual: string | undefined;
}

function wireName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_match, dash: string, letter: string) => dash + letter.toUpperCase());
}

/**
 * Where `actual` (a core copy) does not carry the content headers and user metadata of `expected`
 * (the edge object, or what was sent): empty when it does. Lineage entries are left out on both
 * sides. An expected object without a Content-Type accepts any: servers give such objects a
 * default type of their own (binary/octet-stream, application/octet-stream).
 */
export function headerDifferences(expected: ObjectHeaders, actual: ObjectHeaders): HeaderDifference[] {
  const differences: HeaderDifference[] = [];
  for (const name of CONTENT_HEADERS) {
    const want = expected.content[name];
    const got = actual.content[name];
    if (name === 'content-type' && want === undefined) continue;
    if (want !== got) differences.push({ header: wireName(name), expected: want, actual: got });
  }
  const wanted = userMetadataOf(expected.metadata);
  const got = userMetadataOf(actual.metadata);
  const names = [...new Set([...Object.keys(wanted), ...Object.keys(got)])].sort();
  for (const name of names) {
    const want = Object.hasOwn(wanted, name) ? wanted[name] : undefined;
    const have = Object.hasOwn(got, name) ? got[name] : undefined;
    if (want !== have) differences.push({ header: `${USER_METADATA_PREFIX}${name}`, expected: want, actual: have });
  }
  return differences;
}

/** A difference for a message: `Cache-Control: core "no-cache", edge "max-age=60"`. */
export function describeDifference(difference: HeaderDifference): string {
  const show = (value: string | undefined) => (value === undefined ? '(none)' : JSON.stringify(value));
  return `${difference.header}: core ${show(difference.actual)}, edge ${show(difference.expected)}`;
}
