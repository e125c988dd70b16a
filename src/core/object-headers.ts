/**
 * What an S3 object carries besides its bytes, and a faithful copy carries too: the content
 * headers a client set when it wrote the object, and its user metadata. Both are what GET and
 * HEAD answer, so reading them costs no request of its own.
 */

/** The content headers S3 stores with an object and returns on GET and HEAD (lower-case names). */
export const CONTENT_HEADERS = [
  'content-type',
  'content-encoding',
  'content-language',
  'content-disposition',
  'cache-control',
  'expires',
] as const;

export type ContentHeaderName = (typeof CONTENT_HEADERS)[number];

/** The content headers an object has; a header it does not have is absent. Values as the server sent them. */
export type ContentHeaders = Readonly<Partial<Record<ContentHeaderName, string>>>;

export interface ObjectHeaders {
  readonly content: ContentHeaders;
  /** User metadata: lower-case names without the `x-amz-meta-` prefix, values as the server sent them. */
  readonly metadata: Readonly<Record<string, string>>;
}

export const USER_METADATA_PREFIX = 'x-amz-meta-';
