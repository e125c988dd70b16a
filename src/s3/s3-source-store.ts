/**
 * The edge as a SourceStore over the AWS SDK. Listings page with StartAfter (portable, and the
 * checkpoint is a plain key rather than a server-specific token); reads are GETs with If-Match,
 * and the ETag of what was actually sent is returned so the caller can check it too: not every
 * server honours If-Match.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

import { TributaryError } from '../core/errors.js';
import type { IoOptions, SourcePage, SourceRead, SourceStore } from '../ports/source-store.js';
import { mapS3Error, sendOptions } from './map-error.js';
import type { S3Http } from './s3-http.js';

export function unquoteEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^W\//, '').replace(/^"+|"+$/g, '');
}

function decodeListedKey(key: string, encoded: boolean): string {
  if (!encoded) return key;
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function createS3SourceStore(client: S3Client, http: S3Http): SourceStore {
  return {
    async list(bucket, prefix, startAfter, pageSize, options: IoOptions = {}): Promise<SourcePage> {
      let response;
      try {
        response = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            ...(prefix ? { Prefix: prefix } : {}),
            ...(startAfter === undefined ? {} : { StartAfter: startAfter }),
            MaxKeys: pageSize,
          }),
          sendOptions(options.signal),
        );
      } catch (error) {
        throw mapS3Error(error, 'edge', `LIST ${bucket}/${prefix}`);
      }
      const encoded = response.EncodingType === 'url';
      const objects = (response.Contents ?? []).flatMap((item) => {
        if (item.Key === undefined) return [];
        return [
          {
            bucket,
            key: decodeListedKey(item.Key, encoded),
            etag: unquoteEtag(item.ETag),
            size: item.Size ?? 0,
            mtime: item.LastModified ?? new Date(0),
          },
        ];
      });
      const last = objects.at(-1);
      if (response.IsTruncated === true && last === undefined) {
        throw new TributaryError('TRIB_ERR_EDGE_BAD_RESPONSE', `edge LIST ${bucket}: truncated listing with no keys`);
      }
      return { objects, nextStartAfter: response.IsTruncated === true ? last?.key : undefined };
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
      const etag = unquoteEtag(headerValue(response.headers['etag']));
      if (etag !== '' && etag !== object.etag) {
        response.body.destroy();
        throw new TributaryError('TRIB_ERR_SOURCE_CHANGED', `edge ${operation}: the object changed (ETag ${etag}, expected ${object.etag})`);
      }
      return { body: response.body, etag, size: Number(headerValue(response.headers['content-length']) || 0) };
    },

    async checkBucket(bucket, options: IoOptions = {}): Promise<void> {
      // A one-key listing: the permission the scan needs anyway, and an error body (HEAD has none).
      try {
        await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 }), sendOptions(options.signal));
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchBucket') {
          throw new TributaryError('TRIB_ERR_EDGE_BUCKET_MISSING', `edge bucket ${bucket} does not exist`, { cause: error });
        }
        throw mapS3Error(error, 'edge', `LIST ${bucket}`);
      }
    },
  };
}
