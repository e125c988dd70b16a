import type { Readable } from 'node:stream';

import type { ObjectHeaders } from '../core/object-headers.js';

/** One object version as a listing or an event describes it. */
export interface SourceObject {
  readonly bucket: string;
  readonly key: string;
  /** The ETag as the server sent it, without quotes. */
  readonly etag: string;
  readonly size: number;
  readonly mtime: Date;
  readonly versionId?: string | undefined;
  /** False when `mtime` is an event's time rather than the object's Last-Modified. Default true. */
  readonly mtimeExact?: boolean | undefined;
}

export interface SourcePage {
  readonly objects: readonly SourceObject[];
  /** The key to continue after, or undefined when the listing is complete. */
  readonly nextStartAfter: string | undefined;
}

export interface SourceRead {
  readonly body: Readable;
  /** ETag of the version the server actually sent (checked against the one asked for). */
  readonly etag: string;
  readonly size: number;
  /** False when the answer says the object is encrypted with SSE-KMS or SSE-C: its ETag is no MD5. */
  readonly etagFromMd5: boolean;
  /** The object's content headers and user metadata, from this same answer (a ranged one too). */
  readonly headers: ObjectHeaders;
}

/** An object as a HEAD describes it: the version, and what it carries besides its bytes. */
export interface SourceHead extends SourceObject {
  readonly headers: ObjectHeaders;
}

export interface IoOptions {
  readonly signal?: AbortSignal | undefined;
}

/** The edge: where objects come from. Reads are conditional on the version's ETag. */
export interface SourceStore {
  list(bucket: string, prefix: string, startAfter: string | undefined, pageSize: number, options?: IoOptions): Promise<SourcePage>;
  /** GET with If-Match; `range` is inclusive, like the HTTP Range header. */
  read(
    object: Pick<SourceObject, 'bucket' | 'key' | 'etag'>,
    range: { readonly start: number; readonly end: number } | undefined,
    options?: IoOptions,
  ): Promise<SourceRead>;
  /** HEAD of one object: its current ETag, size, Last-Modified, content headers and user metadata. */
  head(object: Pick<SourceObject, 'bucket' | 'key'>, options?: IoOptions): Promise<SourceHead>;
  /**
   * DELETE of one object (edge retention only), conditional on its ETag: TRIB_ERR_SOURCE_CHANGED
   * when the server says the object is another version now. Servers that ignore If-Match delete
   * whatever is there, so callers HEAD first.
   */
  delete(object: Pick<SourceObject, 'bucket' | 'key' | 'etag'>, options?: IoOptions): Promise<void>;
  /** Fails with a classified error when the bucket is missing or the credentials are refused. */
  checkBucket(bucket: string, options?: IoOptions): Promise<void>;
}
