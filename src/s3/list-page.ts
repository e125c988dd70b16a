/**
 * One ListObjectsV2 page, for every listing Tributary makes: the edge's scan, the core's listing a
 * new journal adopts from, the fleet view's heartbeats. Pages go by StartAfter (portable; a
 * checkpoint is a plain key, not a server's token), with URL-encoded keys (XML 1.0 cannot carry
 * some characters keys may hold). An answer that is not S3's XML is said to be so, and a missing
 * bucket names the config field.
 */
import { TributaryError } from '../core/errors.js';
import type { Side } from '../core/side.js';
import type { S3Endpoint } from './endpoint.js';
import { mapS3Error } from './map-error.js';
import { notS3Listing } from './not-s3.js';
import { parseListing, type Listing } from './parse-listing.js';

export interface ListPageRequest {
  readonly bucket: string;
  readonly prefix: string;
  readonly startAfter?: string | undefined;
  /** Keys asked for; S3 sends at most 1000 whatever is asked. */
  readonly maxKeys?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export async function listPage(endpoint: S3Endpoint, side: Side, request: ListPageRequest): Promise<Listing> {
  const { bucket, prefix, startAfter, maxKeys } = request;
  try {
    const response = await endpoint.http.send({
      method: 'GET',
      bucket,
      query: {
        'list-type': '2',
        ...(maxKeys === undefined ? {} : { 'max-keys': String(maxKeys) }),
        'encoding-type': 'url',
        ...(prefix ? { prefix } : {}),
        ...(startAfter === undefined ? {} : { 'start-after': startAfter }),
      },
      signal: request.signal,
    });
    const text = await response.body.text();
    const notS3 = notS3Listing(response.statusCode, response.headers, text);
    if (notS3 !== undefined) throw Object.assign(new Error(notS3), { $notS3: notS3, $endpoint: endpoint.url });
    return parseListing(text, bucket, side);
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchBucket') {
      const field = side === 'edge' ? 'edge.buckets' : 'core.bucket';
      throw new TributaryError(
        side === 'edge' ? 'TRIB_ERR_EDGE_BUCKET_MISSING' : 'TRIB_ERR_CORE_BUCKET_MISSING',
        `${side} bucket ${bucket} does not exist; check ${field}`,
        { cause: error, field },
      );
    }
    throw mapS3Error(error, side, `LIST ${bucket}/${prefix}`);
  }
}
