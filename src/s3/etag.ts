/**
 * What an S3 ETag says about the bytes. A plain ETag is the MD5 of the object, and a multipart
 * one (`<hex>-<parts>`) the MD5 of its parts' MD5s, except for objects encrypted with SSE-KMS or
 * SSE-C: their ETags are opaque, even when they look like an MD5.
 */
import { headerValue } from './s3-http.js';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** True unless the answer says the object is encrypted with SSE-KMS (or DSSE-KMS) or SSE-C. */
export function etagFromMd5(sse: string | undefined, customerAlgorithm: string | undefined): boolean {
  return !(sse ?? '').toLowerCase().startsWith('aws:kms') && customerAlgorithm === undefined;
}

/** etagFromMd5 from an HTTP answer's headers. */
export function etagFromMd5Headers(headers: Headers): boolean {
  return etagFromMd5(
    headerValue(headers['x-amz-server-side-encryption']),
    headerValue(headers['x-amz-server-side-encryption-customer-algorithm']),
  );
}
