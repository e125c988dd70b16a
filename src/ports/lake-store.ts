import type { Readable } from 'node:stream';

import type { ContentHeaders } from '../core/object-headers.js';
import type { IoOptions } from './source-store.js';

export interface LakeHead {
  readonly size: number;
  readonly etag: string | undefined;
  /** User metadata, lower-case names without the x-amz-meta- prefix: the edge's entries and our lineage. */
  readonly metadata: Readonly<Record<string, string>>;
  /** The content headers the core answered with (Content-Type, Cache-Control, ...). */
  readonly content: ContentHeaders;
  /** False when the ETag is opaque (SSE-KMS, SSE-C), true when it is derived from MD5s (etag.ts). */
  readonly etagFromMd5: boolean;
}

/** What the core answered to a PUT or an UploadPart. */
export interface LakeWrite {
  readonly etag: string | undefined;
  /** As in LakeHead. */
  readonly etagFromMd5: boolean;
}

/** What a new core object carries besides its bytes. */
export interface LakeObjectOptions {
  readonly metadata: Readonly<Record<string, string>>;
  /** The content headers it lands with: a replicated object's are the edge object's. */
  readonly content?: ContentHeaders | undefined;
  /** Our own objects' type (heartbeat, manifests); wins over `content`'s Content-Type. */
  readonly contentType?: string | undefined;
}

export interface LakePutOptions extends IoOptions, LakeObjectOptions {
  /** Base64 MD5 of the body, sent as Content-MD5 so the server verifies what it received. */
  readonly contentMd5: string;
}

/** A body that is streamed rather than held in memory: exactly `length` bytes. */
export interface StreamBody {
  readonly stream: Readable;
  readonly length: number;
}

export interface CompletedPart {
  readonly partNumber: number;
  readonly etag: string;
}

/** One object of a core listing. */
export interface LakeListing {
  readonly key: string;
  /** As the server sent it, without quotes. */
  readonly etag: string;
  readonly size: number;
}

export interface LakePage {
  readonly objects: readonly LakeListing[];
  /** The key to continue after, or undefined when the listing is complete. */
  readonly nextStartAfter: string | undefined;
}

/** The core bucket: where objects land. Keys are full core keys. */
export interface LakeStore {
  readonly bucket: string;
  head(key: string, options?: IoOptions): Promise<LakeHead | undefined>;
  /**
   * One page of the core's keys under `prefix`, after `startAfter` (ListObjectsV2): a new journal
   * lists what its site already holds in the core before it sends anything.
   */
  list(prefix: string, startAfter: string | undefined, options?: IoOptions & { readonly pageSize?: number }): Promise<LakePage>;
  /** GET of a whole core object (verify --deep, get, restore). */
  read(key: string, options?: IoOptions): Promise<{ readonly body: Readable; readonly size: number }>;
  put(key: string, body: Buffer | StreamBody, options: LakePutOptions): Promise<LakeWrite>;
  createMultipart(key: string, options: IoOptions & LakeObjectOptions): Promise<string>;
  uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Buffer,
    options: IoOptions & { readonly contentMd5: string },
  ): Promise<LakeWrite & { readonly etag: string }>;
  completeMultipart(key: string, uploadId: string, parts: readonly CompletedPart[], options?: IoOptions): Promise<void>;
  /** Deletes one core object (deletes: propagate); a missing object is not an error. */
  delete(key: string, options?: IoOptions): Promise<void>;
  /** Best effort: some servers do not support it. */
  abortMultipart(key: string, uploadId: string): Promise<void>;
  /** Cheap reachability and permission check of the bucket (HeadBucket). */
  probe(options?: IoOptions): Promise<void>;
}
