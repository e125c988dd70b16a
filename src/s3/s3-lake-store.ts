/**
 * The core bucket as a LakeStore over the AWS SDK. Bodies are Buffers the transfer stage has
 * already hashed, so every PUT and part carries Content-MD5 and the server verifies what it got.
 */

import { TributaryError } from '../core/errors.js';
import type { IoOptions } from '../ports/source-store.js';
import type { LakeHead, LakePage, LakeStore } from '../ports/lake-store.js';
import { mapS3Error, sendOptions } from './map-error.js';
import type { S3Endpoint } from './endpoint.js';
import { etagFromMd5, etagFromMd5Headers } from './etag.js';
import { notS3Object } from './not-s3.js';
import { objectHeadersFrom, objectRequestHeaders } from './object-headers.js';
import { headerValue } from './s3-http.js';
import { listPage } from './list-page.js';
import { nextStartAfter, unquoteEtag } from './parse-listing.js';

/** `probeKey` is a key the agent may read (its own heartbeat); it need not exist. */
export interface CoreEncryption {
  readonly mode: 'none' | 'AES256' | 'aws:kms';
  readonly kmsKeyId?: string | undefined;
}

/** The SSE request headers of a PUT, as the lean client sends them. */
export function encryptionHeaders(encryption: CoreEncryption): Record<string, string> {
  if (encryption.mode === 'none') return {};
  return {
    'x-amz-server-side-encryption': encryption.mode,
    ...(encryption.mode === 'aws:kms' && encryption.kmsKeyId !== undefined
      ? { 'x-amz-server-side-encryption-aws-kms-key-id': encryption.kmsKeyId }
      : {}),
  };
}

export function createS3LakeStore(
  endpoint: S3Endpoint,
  bucket: string,
  probeKey: string,
  encryption: CoreEncryption = { mode: 'none' },
): LakeStore {
  const { http } = endpoint;
  const sse = encryptionHeaders(encryption);
  const sseParams =
    encryption.mode === 'none'
      ? {}
      : {
          ServerSideEncryption: encryption.mode,
          ...(encryption.mode === 'aws:kms' && encryption.kmsKeyId !== undefined ? { SSEKMSKeyId: encryption.kmsKeyId } : {}),
        };
  return {
    bucket,

    async head(key, options: IoOptions = {}): Promise<LakeHead | undefined> {
      try {
        const response = await http.send({ method: 'HEAD', bucket, key, signal: options.signal });
        const { metadata, content } = objectHeadersFrom(response.headers);
        const etag = headerValue(response.headers['etag']);
        return {
          size: Number(headerValue(response.headers['content-length']) ?? 0),
          etag: etag === undefined ? undefined : unquoteEtag(etag),
          metadata,
          content,
          etagFromMd5: etagFromMd5Headers(response.headers),
        };
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404) return undefined;
        throw mapS3Error(error, 'core', `HEAD ${key}`);
      }
    },

    async list(prefix, startAfter, options = {}): Promise<LakePage> {
      const listing = await listPage(endpoint, 'core', {
        bucket,
        prefix,
        startAfter,
        maxKeys: options.pageSize ?? 1000,
        signal: options.signal,
      });
      return {
        objects: listing.objects.map((o) => ({ key: o.key, etag: o.etag, size: o.size })),
        nextStartAfter: nextStartAfter(listing, startAfter, `core LIST ${bucket}/${prefix}`, 'core'),
      };
    },

    async read(key, options: IoOptions = {}) {
      try {
        const response = await http.send({ method: 'GET', bucket, key, signal: options.signal });
        return { body: response.body, size: Number(headerValue(response.headers['content-length']) ?? 0) };
      } catch (error) {
        throw mapS3Error(error, 'core', `GET ${key}`);
      }
    },

    async delete(key, options: IoOptions = {}) {
      try {
        await http.send({ method: 'DELETE', bucket, key, signal: options.signal });
      } catch (error) {
        if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return;
        throw mapS3Error(error, 'core', `DELETE ${key}`);
      }
    },

    async put(key, body, options) {
      const headers: Record<string, string> = { ...objectRequestHeaders(options), 'content-md5': options.contentMd5, ...sse };
      try {
        const response = await http.send({
          method: 'PUT',
          bucket,
          key,
          ...(Buffer.isBuffer(body) ? { body } : { body: body.stream, contentLength: body.length }),
          headers,
          signal: options.signal,
        });
        const etag = headerValue(response.headers['etag']);
        return { etag: etag === undefined ? undefined : unquoteEtag(etag), etagFromMd5: etagFromMd5Headers(response.headers) };
      } catch (error) {
        throw mapS3Error(error, 'core', `PUT ${key}`);
      }
    },

    async createMultipart(key, options) {
      try {
        const { client, commands } = await endpoint.sdk();
        const content = options.content ?? {};
        const contentType = options.contentType ?? content['content-type'];
        const command = new commands.CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          Metadata: { ...options.metadata },
          ...sseParams,
          ...(contentType === undefined ? {} : { ContentType: contentType }),
          ...(content['content-encoding'] === undefined ? {} : { ContentEncoding: content['content-encoding'] }),
          ...(content['content-language'] === undefined ? {} : { ContentLanguage: content['content-language'] }),
          ...(content['content-disposition'] === undefined ? {} : { ContentDisposition: content['content-disposition'] }),
          ...(content['cache-control'] === undefined ? {} : { CacheControl: content['cache-control'] }),
        });
        // The SDK's Expires field is a Date it re-formats, and an edge may hold any string there
        // ("0" is common): the header goes on the request as the edge sent it (signed after this step).
        const expires = content.expires;
        if (expires !== undefined) {
          command.middlewareStack.add(
            (next) => (args) => {
              (args.request as { headers: Record<string, string> }).headers['expires'] = expires;
              return next(args);
            },
            { step: 'build', name: 'tributaryExpiresHeader' },
          );
        }
        const response = await client.send(command, sendOptions(options.signal));
        if (!response.UploadId) {
          throw new TributaryError('TRIB_ERR_CORE_BAD_RESPONSE', `core CreateMultipartUpload ${key}: no upload id in the answer`);
        }
        return response.UploadId;
      } catch (error) {
        throw mapS3Error(error, 'core', `CreateMultipartUpload ${key}`);
      }
    },

    async uploadPart(key, uploadId, partNumber, body, options) {
      try {
        const { client, commands } = await endpoint.sdk();
        const response = await client.send(
          new commands.UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: body,
            ContentLength: body.length,
            ContentMD5: options.contentMd5,
          }),
          sendOptions(options.signal),
        );
        if (!response.ETag) {
          throw new TributaryError('TRIB_ERR_CORE_BAD_RESPONSE', `core UploadPart ${key} #${partNumber}: no ETag in the answer`);
        }
        return { etag: unquoteEtag(response.ETag), etagFromMd5: etagFromMd5(response.ServerSideEncryption, response.SSECustomerAlgorithm) };
      } catch (error) {
        throw mapS3Error(error, 'core', `UploadPart ${key} #${partNumber}`);
      }
    },

    async completeMultipart(key, uploadId, parts, options: IoOptions = {}) {
      try {
        const { client, commands } = await endpoint.sdk();
        await client.send(
          new commands.CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: `"${p.etag}"` })) },
          }),
          sendOptions(options.signal),
        );
      } catch (error) {
        throw mapS3Error(error, 'core', `CompleteMultipartUpload ${key}`);
      }
    },

    async abortMultipart(key, uploadId) {
      try {
        const { client, commands } = await endpoint.sdk();
        await client.send(new commands.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
      } catch {
        // Best effort: some servers answer 405; a lifecycle rule cleans up what is left.
      }
    },

    async probe(options: IoOptions = {}) {
      // A ranged GET of our own heartbeat key (it need not exist): it needs no bucket-level
      // permission and, unlike HEAD, its error answers carry a code, so bad credentials are told
      // apart from a missing bucket. NoSuchKey or AccessDenied both prove the endpoint is up and
      // the signature was accepted.
      try {
        const response = await http.send({ method: 'GET', bucket, key: probeKey, headers: { range: 'bytes=0-0' }, signal: options.signal });
        // A web server's page for any path is no heartbeat of ours (always JSON).
        const notS3 = notS3Object(response.headers, (await response.body.text()).slice(0, 4096));
        if (notS3 !== undefined) throw Object.assign(new Error(notS3), { $notS3: notS3, $endpoint: endpoint.url });
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'NoSuchKey' || name === 'AccessDenied' || name === 'InvalidRange') return;
        if (name === 'NoSuchBucket') {
          throw new TributaryError('TRIB_ERR_CORE_BUCKET_MISSING', `core bucket ${bucket} does not exist; check core.bucket`, {
            cause: error,
            field: 'core.bucket',
          });
        }
        throw mapS3Error(error, 'core', `probe ${bucket}`);
      }
    },
  };
}
