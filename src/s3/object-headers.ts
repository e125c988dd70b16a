/**
 * The content headers and user metadata of an object, read from an S3 answer (GET, ranged GET,
 * HEAD) and written as the request headers of a PUT. Values pass through as they came: S3 sends a
 * non-ASCII metadata value RFC 2047-encoded, and takes that encoded form back as it is.
 */
import {
  CONTENT_HEADERS,
  USER_METADATA_PREFIX,
  type ContentHeaderName,
  type ContentHeaders,
  type ObjectHeaders,
} from '../core/object-headers.js';
import type { LakeObjectOptions } from '../ports/lake-store.js';

type AnswerHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** A header sent more than once comes as a list; S3 itself joins same-named metadata with commas. */
function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * `aws-chunked` is how a request body was framed on its way in, not how the object is encoded: S3
 * drops it from the stored Content-Encoding, but some S3-compatible servers store and replay it.
 * Copied on, it would make strict clients fail to read the object, and a core that drops it would
 * look different from the edge for ever. It is dropped here, for the copy and the comparison alike.
 */
function withoutTransportEncoding(value: string): string | undefined {
  const codings = value
    .split(',')
    .map((coding) => coding.trim())
    .filter((coding) => coding !== '' && coding.toLowerCase() !== 'aws-chunked');
  return codings.length === 0 ? undefined : codings.join(',');
}

/** The object's content headers and user metadata in an answer (header names in lower case, as undici gives them). */
export function objectHeadersFrom(headers: AnswerHeaders): ObjectHeaders {
  const content: Partial<Record<ContentHeaderName, string>> = {};
  for (const name of CONTENT_HEADERS) {
    const raw = joined(headers[name]);
    const value = raw === undefined || name !== 'content-encoding' ? raw : withoutTransportEncoding(raw);
    if (value !== undefined) content[name] = value;
  }
  // fromEntries, not assignment: a metadata entry named __proto__ must stay an entry.
  const metadata = Object.fromEntries(
    Object.entries(headers)
      .filter(([name]) => name.startsWith(USER_METADATA_PREFIX))
      .map(([name, value]) => [name.slice(USER_METADATA_PREFIX.length), joined(value) ?? '']),
  );
  return { content, metadata };
}

/** The request headers that give a new object these content headers and metadata (a PUT's). */
export function objectRequestHeaders(options: LakeObjectOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const content: ContentHeaders = options.content ?? {};
  for (const name of CONTENT_HEADERS) {
    const value = content[name];
    if (value !== undefined) headers[name] = value;
  }
  if (options.contentType !== undefined) headers['content-type'] = options.contentType;
  for (const [name, value] of Object.entries(options.metadata)) headers[`${USER_METADATA_PREFIX}${name}`] = value;
  return headers;
}
