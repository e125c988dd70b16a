/**
 * The SDK error mapping, tested with SDK-shaped errors (the one place we fake the SDK).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { isConfigError, outageOf, TributaryError } from '../../../src/core/errors.js';
import { mapS3Error } from '../../../src/s3/map-error.js';
import { notS3ErrorAnswer, notS3Listing, notS3Object } from '../../../src/s3/not-s3.js';
import { s3HttpError } from '../../../src/s3/s3-http.js';
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
  // Refused credentials are an endpoint outage while the agent runs (and exit 2 at preflight).
  ['SignatureDoesNotMatch', sdkError.badSignature(), 'core', 'TRIB_ERR_CORE_AUTH', 'unreachable'],
  [
    'InvalidAccessKeyId',
    Object.assign(new Error('x'), { name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } }),
    'edge',
    'TRIB_ERR_EDGE_AUTH',
    'unreachable',
  ],
  ['AccessDenied', sdkError.accessDenied(), 'core', 'TRIB_ERR_CORE_ACCESS_DENIED', 'permanent'],
  ['NoSuchKey at the edge', sdkError.noSuchKey(), 'edge', 'TRIB_ERR_SOURCE_GONE', 'superseded'],
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

/** An undici-shaped connection error. */
const netError = (code: string, message: string) => Object.assign(new Error(message), { code });

const reasons: [string, unknown, 'edge' | 'core', string, string | undefined][] = [
  ['refused', netError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9'), 'edge', 'TRIB_ERR_EDGE_UNREACHABLE', 'refused'],
  [
    'closed',
    Object.assign(netError('UND_ERR_SOCKET', 'other side closed'), { name: 'SocketError' }),
    'edge',
    'TRIB_ERR_EDGE_UNREACHABLE',
    'reset',
  ],
  ['reset', netError('ECONNRESET', 'read ECONNRESET'), 'core', 'TRIB_ERR_CORE_UNREACHABLE', 'reset'],
  ['connect timeout', netError('UND_ERR_CONNECT_TIMEOUT', 'Connect Timeout Error'), 'edge', 'TRIB_ERR_EDGE_UNREACHABLE', 'timeout'],
  ['headers timeout', netError('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error'), 'edge', 'TRIB_ERR_EDGE_UNREACHABLE', 'timeout'],
  ['DNS', netError('ENOTFOUND', 'getaddrinfo ENOTFOUND edge.invalid'), 'edge', 'TRIB_ERR_EDGE_UNREACHABLE', 'dns'],
  ['no route', netError('EHOSTUNREACH', 'connect EHOSTUNREACH 192.0.2.1:9000'), 'core', 'TRIB_ERR_CORE_UNREACHABLE', 'network'],
  ['500', sdkError.internal(), 'edge', 'TRIB_ERR_EDGE_SERVER', 'http-5xx'],
  [
    '502 from a proxy (HTML)',
    s3HttpError(502, { 'content-type': 'text/html' }, '<html><title>502 Bad Gateway</title></html>'),
    'edge',
    'TRIB_ERR_EDGE_SERVER',
    'http-5xx',
  ],
  ['auth', sdkError.badSignature(), 'edge', 'TRIB_ERR_EDGE_AUTH', 'auth'],
  [
    'untrusted certificate',
    netError('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'),
    'core',
    'TRIB_ERR_CORE_TLS',
    'tls',
  ],
  // Not endpoint outages: the endpoint answered, about one object or one request.
  ['throttled', sdkError.slowDown(), 'edge', 'TRIB_ERR_EDGE_THROTTLED', undefined],
  ['missing object', sdkError.noSuchKey(), 'edge', 'TRIB_ERR_SOURCE_GONE', undefined],
  ['access denied', sdkError.accessDenied(), 'core', 'TRIB_ERR_CORE_ACCESS_DENIED', undefined],
  [
    'an unexpected 4xx',
    Object.assign(new Error('x'), { name: 'Http418', $metadata: { httpStatusCode: 418 } }),
    'core',
    'TRIB_ERR_CORE_SERVER',
    undefined,
  ],
];

for (const [label, error, side, code, reason] of reasons) {
  test(`outage reason: ${side} ${label} -> ${code} ${reason ?? '(no outage)'}`, () => {
    const mapped = mapS3Error(error, side, 'GET x');
    assert.equal(mapped.code, code);
    assert.deepEqual(outageOf(mapped), reason === undefined ? undefined : { side, reason });
  });
}

test('an outage reason from the code alone, for errors built without one', () => {
  assert.deepEqual(outageOf(new TributaryError('TRIB_ERR_EDGE_UNREACHABLE', 'x')), { side: 'edge', reason: 'network' });
  assert.deepEqual(outageOf(new TributaryError('TRIB_ERR_CORE_AUTH', 'x')), { side: 'core', reason: 'auth' });
  assert.deepEqual(outageOf(new TributaryError('TRIB_ERR_EDGE_NOT_S3', 'x')), { side: 'edge', reason: 'not-s3' });
  assert.equal(outageOf(new TributaryError('TRIB_ERR_EDGE_SERVER', 'x')), undefined, 'a server error without a 5xx says nothing');
  assert.equal(outageOf(new TributaryError('TRIB_ERR_JOURNAL_FAILED', 'x')), undefined);
});

test('https:// against a plain HTTP port: said in words with the URL, a TLS error of the config (not an edge server error)', () => {
  const openssl = Object.assign(
    netError(
      'ERR_SSL_WRONG_VERSION_NUMBER',
      '80FCEAACA07F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:',
    ),
    { $endpoint: 'https://127.0.0.1:9000' },
  );
  const mapped = mapS3Error(openssl, 'edge', 'LIST edge/');
  assert.equal(mapped.code, 'TRIB_ERR_EDGE_TLS');
  assert.equal(mapped.message, 'edge LIST edge/: https://127.0.0.1:9000 answers plain HTTP, not TLS: use http:// in edge.endpoint');
  assert.equal(mapped.field, 'edge.endpoint');
  assert.equal(mapped.reason, 'tls');
  assert.ok(isConfigError(mapped), 'exit 2 at preflight');
});

test('an answer no S3 server gives: TRIB_ERR_*_NOT_S3 naming the URL, not TRIB_ERR_SOURCE_GONE', () => {
  const html = s3HttpError(
    404,
    { 'content-type': 'text/html; charset=utf-8' },
    '<!doctype html><html><head><title>Not Found</title></head></html>',
  );
  Object.assign(html, { $endpoint: 'http://127.0.0.1:8080' });
  const edge = mapS3Error(html, 'edge', 'LIST edge/');
  assert.equal(edge.code, 'TRIB_ERR_EDGE_NOT_S3');
  assert.equal(
    edge.message,
    'edge LIST edge/: http://127.0.0.1:8080 is not an S3 endpoint: it answered HTTP 404 (text/html) titled "Not Found"; check edge.endpoint',
  );
  assert.deepEqual(outageOf(edge), { side: 'edge', reason: 'not-s3' });
  assert.ok(isConfigError(edge));
  assert.equal(mapS3Error(html, 'core', 'probe lake').code, 'TRIB_ERR_CORE_NOT_S3');
});

test('evidence of "not S3": only bodies S3 never sends, never a HEAD, a 5xx or a 429', () => {
  const xml = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>x</Message></Error>';
  assert.equal(notS3ErrorAnswer('GET', 404, { 'content-type': 'application/xml' }, xml), undefined);
  assert.equal(notS3ErrorAnswer('GET', 403, {}, '<Error><Code>AccessDenied</Code></Error>'), undefined);
  assert.equal(notS3ErrorAnswer('HEAD', 404, { 'content-type': 'text/html' }, ''), undefined, 'S3 HEAD errors have no body');
  assert.equal(notS3ErrorAnswer('GET', 503, { 'content-type': 'text/html' }, '<html>busy</html>'), undefined);
  assert.equal(notS3ErrorAnswer('GET', 429, { 'content-type': 'text/plain' }, 'slow down'), undefined);
  assert.equal(notS3ErrorAnswer('GET', 404, {}, ''), undefined, 'an empty body with no type says nothing');
  assert.equal(notS3ErrorAnswer('GET', 404, { 'content-type': 'application/xml' }, ''), undefined);
  assert.match(notS3ErrorAnswer('GET', 404, { 'content-type': 'text/plain' }, '') ?? '', /HTTP 404 \(text\/plain\) with an empty body/);
  assert.match(
    notS3ErrorAnswer('GET', 401, { 'content-type': 'application/json' }, '{"error":"login"}') ?? '',
    /HTTP 401 \(application\/json\) "\{/,
  );
  // Listings: a ListBucketResult, or broken XML (a bad answer, not a wrong URL), or something else.
  assert.equal(
    notS3Listing(200, { 'content-type': 'application/xml' }, '<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>'),
    undefined,
  );
  assert.equal(notS3Listing(200, { 'content-type': 'application/xml' }, '<?xml version="1.0"?><ListBucketResult><Contents>'), undefined);
  assert.match(
    notS3Listing(200, { 'content-type': 'text/html' }, '<html><title>Welcome to nginx!</title></html>') ?? '',
    /HTTP 200 \(text\/html\) titled "Welcome to nginx!" to a bucket listing/,
  );
  assert.match(notS3Listing(200, {}, '') ?? '', /HTTP 200 with an empty body to a bucket listing/);
  assert.equal(notS3Object({ 'content-type': 'application/json' }), undefined);
  assert.match(notS3Object({ 'content-type': 'text/html' }, '<html></html>') ?? '', /HTTP 200 \(text\/html\)/);
});
