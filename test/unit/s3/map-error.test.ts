/**
 * The SDK error mapping, tested with SDK-shaped errors (the one place we fake the SDK).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { mapS3Error } from '../../../src/s3/map-error.js';
import { sdkError } from '../../helpers/fakes.js';

const cases: [string, unknown, 'edge' | 'core', string, string][] = [
  ['connection refused', sdkError.network(), 'core', 'TRIB_ERR_CORE_UNREACHABLE', 'unreachable'],
  [
    'socket timeout',
    Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }),
    'edge',
    'TRIB_ERR_EDGE_UNREACHABLE',
    'unreachable',
  ],
  [
    'reset wrapped in cause',
    Object.assign(new Error('outer'), { cause: Object.assign(new Error('read'), { code: 'ECONNRESET' }) }),
    'core',
    'TRIB_ERR_CORE_UNREACHABLE',
    'unreachable',
  ],
  ['SlowDown', sdkError.slowDown('7'), 'core', 'TRIB_ERR_CORE_THROTTLED', 'throttled'],
  [
    '429',
    Object.assign(new Error('x'), { name: 'TooManyRequests', $metadata: { httpStatusCode: 429 } }),
    'edge',
    'TRIB_ERR_EDGE_THROTTLED',
    'throttled',
  ],
  ['500', sdkError.internal(), 'core', 'TRIB_ERR_CORE_SERVER', 'transient'],
  [
    '503 without a code',
    Object.assign(new Error('x'), { name: 'Http503', $metadata: { httpStatusCode: 503 } }),
    'core',
    'TRIB_ERR_CORE_THROTTLED',
    'throttled',
  ],
  // What the SDK makes of <Error>InternalError</Error> in a 200 answer to CompleteMultipartUpload.
  [
    'InternalError as 503',
    Object.assign(new Error('We encountered an internal error.'), { name: 'InternalError', $metadata: { httpStatusCode: 503 } }),
    'core',
    'TRIB_ERR_CORE_SERVER',
    'transient',
  ],
  ['SignatureDoesNotMatch', sdkError.badSignature(), 'core', 'TRIB_ERR_CORE_AUTH', 'fatal'],
  [
    'InvalidAccessKeyId',
    Object.assign(new Error('x'), { name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } }),
    'edge',
    'TRIB_ERR_EDGE_AUTH',
    'fatal',
  ],
  ['AccessDenied', sdkError.accessDenied(), 'core', 'TRIB_ERR_CORE_ACCESS_DENIED', 'permanent'],
  ['NoSuchKey at the edge', sdkError.noSuchKey(), 'edge', 'TRIB_ERR_SOURCE_GONE', 'permanent'],
  [
    'PreconditionFailed',
    Object.assign(new Error('x'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } }),
    'edge',
    'TRIB_ERR_SOURCE_CHANGED',
    'superseded',
  ],
  [
    'InvalidRange',
    Object.assign(new Error('x'), { name: 'InvalidRange', $metadata: { httpStatusCode: 416 } }),
    'edge',
    'TRIB_ERR_SOURCE_CHANGED',
    'superseded',
  ],
  [
    'BadDigest',
    Object.assign(new Error('x'), { name: 'BadDigest', $metadata: { httpStatusCode: 400 } }),
    'core',
    'TRIB_ERR_LAND_MISMATCH',
    'transient',
  ],
  [
    'NoSuchUpload',
    Object.assign(new Error('x'), { name: 'NoSuchUpload', $metadata: { httpStatusCode: 404 } }),
    'core',
    'TRIB_ERR_CORE_UPLOAD_LOST',
    'transient',
  ],
  [
    'KeyTooLong',
    Object.assign(new Error('x'), { name: 'KeyTooLongError', $metadata: { httpStatusCode: 400 } }),
    'core',
    'TRIB_ERR_CORE_REJECTED',
    'permanent',
  ],
  [
    'malformed XML',
    Object.assign(new Error('Deserialization error: to see the raw response'), { name: 'SyntaxError' }),
    'core',
    'TRIB_ERR_CORE_BAD_RESPONSE',
    'transient',
  ],
  [
    '301 PermanentRedirect',
    Object.assign(new Error('x'), { name: 'PermanentRedirect', $metadata: { httpStatusCode: 301 } }),
    'core',
    'TRIB_ERR_CORE_REDIRECT',
    'fatal',
  ],
  [
    '307 without a code',
    Object.assign(new Error('x'), { name: 'Http307', $metadata: { httpStatusCode: 307 } }),
    'edge',
    'TRIB_ERR_EDGE_REDIRECT',
    'fatal',
  ],
  ['abort', Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }), 'core', 'TRIB_ERR_CANCELLED', 'cancelled'],
];

for (const [label, error, side, code, errorClass] of cases) {
  test(`${side} ${label} -> ${code} (${errorClass})`, () => {
    const mapped = mapS3Error(error, side, 'PUT x');
    assert.equal(mapped.code, code);
    assert.equal(mapped.errorClass, errorClass);
    assert.equal(mapped.cause, error);
  });
}

test('Retry-After in seconds and as an HTTP date', () => {
  assert.equal(mapS3Error(sdkError.slowDown('7'), 'core', 'PUT').retryAfterSeconds, 7);
  const date = new Date(Date.now() + 30_000).toUTCString();
  const seconds = mapS3Error(sdkError.slowDown(date), 'core', 'PUT').retryAfterSeconds!;
  assert.ok(seconds > 25 && seconds <= 30, String(seconds));
});

test('a redirect names the region the bucket is in, when the server says', () => {
  const error = Object.assign(new Error('The bucket you are attempting to access must be addressed using the specified endpoint.'), {
    name: 'PermanentRedirect',
    $metadata: { httpStatusCode: 301 },
    $response: { statusCode: 301, headers: { 'x-amz-bucket-region': 'eu-central-1' } },
  });
  const mapped = mapS3Error(error, 'core', 'HEAD lake');
  assert.match(mapped.message, /the bucket is in region eu-central-1; set core\.region: eu-central-1/);
  assert.equal(mapped.field, 'core.region');
});
