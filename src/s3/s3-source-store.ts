/**
 * The edge as a SourceStore. Listings page with StartAfter (portable, and the checkpoint is a
 * plain key rather than a server-specific token); reads are GETs with If-Match, and the ETag of
 * what was actually sent is checked too: not every server honours If-Match.
 */
import { TributaryError } from '../core/errors.js';
import type { IoOptions, SourceHead, SourcePage, SourceRead, SourceStore } from '../ports/source-store.js';
import type { S3Endpoint } from './endpoint.js';
import { etagFromMd5Headers } from './etag.js';
import { headerValue } from './s3-http.js';
import { mapS3Error } from './map-error.js';
import { listPage } from './list-page.js';
import { objectHeadersFrom } from './object-headers.js';
import { nextStartAfter, unquoteEtag } from './parse-listing.js';

export { unquoteEtag };

/**
 * What is wrong with the answer to a ranged GET, if anything: it must be a 206 for exactly the
 * bytes asked for. (A 200 carries the whole object; a length check alone would not notice a range
 * shifted by a few bytes.)
 */
export function rangeProblem(
  status: number,
  contentRange: string | undefined,
  range: { readonly start: number; readonly end: number },
): string | undefined {
  if (status !== 206) return `answered HTTP ${status} instead of 206 Partial Content`;
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange?.trim() ?? '');
  if (match === null)
    return `206 with Content-Range ${JSON.stringify(contentRange ?? null)}, not "bytes ${range.start}-${range.end}/<size>"`;
  if (Number(match[1]) !== range.start || Number(match[2]) !== range.end)
    return `206 for bytes ${match[1]}-${match[2]}, not the bytes asked for`;
  return undefined;
}

export function createS3SourceStore(endpoint: S3Endpoint): SourceStore {
  const { http } = endpoint;

  const listPageOf = (bucket: string, prefix: string, startAfter: string | undefined, maxKeys: number, signal: AbortSignal | undefined) =>
    listPage(endpoint, 'edge', { bucket, prefix, startAfter, maxKeys, signal });

  return {
    async list(bucket, prefix, startAfter, pageSize, options: IoOptions = {}): Promise<SourcePage> {
      const page = await listPageOf(bucket, prefix, startAfter, pageSize, options.signal);
      return { objects: page.objects, nextStartAfter: nextStartAfter(page, startAfter, `edge LIST ${bucket}`) };
    },

    async read(object, range, options: IoOptions = {}): Promise<SourceRead> {
      const operation = `GET ${object.bucket}/${object.key}`;
      let response;
      try {
        response = await http.send({
          method: 'GET',
          bucket: object.bucket,
          key: object.key,
          headers: {
            'if-match': `"${object.etag}"`,
            ...(range === undefined ? {} : { range: `bytes=${range.start}-${range.end}` }),
          },
          signal: options.signal,
        });
      } catch (error) {
        throw mapS3Error(error, 'edge', operation);
      }
      const refuse = (error: TributaryError): never => {
        // Destroying an unread body emits 'error': with no listener that would end the process.
        response.body.once('error', () => undefined);
        response.body.destroy();
        throw error;
      };
      const etag = unquoteEtag(headerValue(response.headers['etag']));
      if (etag !== '' && etag !== object.etag) {
        refuse(
          new TributaryError('TRIB_ERR_SOURCE_CHANGED', `edge ${operation}: the object changed (ETag ${etag}, expected ${object.etag})`),
        );
      }
      if (range !== undefined) {
        const problem = rangeProblem(response.statusCode, headerValue(response.headers['content-range']), range);
        if (problem !== undefined)
          refuse(new TributaryError('TRIB_ERR_EDGE_BAD_RESPONSE', `edge ${operation} bytes ${range.start}-${range.end}: ${problem}`));
      }
      return {
        body: response.body,
        etag,
        size: Number(headerValue(response.headers['content-length']) || 0),
        etagFromMd5: etagFromMd5Headers(response.headers),
        headers: objectHeadersFrom(response.headers),
      };
    },

    async head(object, options: IoOptions = {}): Promise<SourceHead> {
      try {
        const response = await http.send({ method: 'HEAD', bucket: object.bucket, key: object.key, signal: options.signal });
        const lastModified = new Date(headerValue(response.headers['last-modified']) ?? '');
        return {
          bucket: object.bucket,
          key: object.key,
          etag: unquoteEtag(headerValue(response.headers['etag'])),
          size: Number(headerValue(response.headers['content-length']) ?? 0),
          mtime: Number.isNaN(lastModified.getTime()) ? new Date(0) : lastModified,
          headers: objectHeadersFrom(response.headers),
        };
      } catch (error) {
        throw mapS3Error(error, 'edge', `HEAD ${object.bucket}/${object.key}`);
      }
    },

    async delete(object, options: IoOptions = {}): Promise<void> {
      try {
        await http.send({
          method: 'DELETE',
          bucket: object.bucket,
          key: object.key,
          headers: { 'if-match': `"${object.etag}"` },
          signal: options.signal,
        });
      } catch (error) {
        throw mapS3Error(error, 'edge', `DELETE ${object.bucket}/${object.key}`);
      }
    },

    async checkBucket(bucket, options: IoOptions = {}): Promise<void> {
      // A one-key listing: the permission the scan needs anyway, and an error body (HEAD has none).
      await listPageOf(bucket, '', undefined, 1, options.signal);
    },
  };
}
