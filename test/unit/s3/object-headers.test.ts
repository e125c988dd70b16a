/** The S3 adapter's reading and writing of an object's content headers and user metadata. */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { objectHeadersFrom, objectRequestHeaders } from '../../../src/s3/object-headers.js';

test('an answer gives the six content headers and every x-amz-meta-* entry, values untouched', () => {
  const headers = objectHeadersFrom({
    'content-type': 'application/json',
    'content-encoding': 'gzip',
    'content-language': 'de-CH',
    'content-disposition': 'attachment; filename="a b.json"',
    'cache-control': 'max-age=60',
    expires: '0',
    'content-length': '12',
    etag: '"abc"',
    'x-amz-meta-owner': 'team-a',
    'x-amz-meta-label': '=?UTF-8?B?w6l0w6k=?=',
    'x-amz-meta-empty': '',
    'x-amz-server-side-encryption': 'AES256',
  });
  assert.deepEqual(headers, {
    content: {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      'content-language': 'de-CH',
      'content-disposition': 'attachment; filename="a b.json"',
      'cache-control': 'max-age=60',
      expires: '0',
    },
    metadata: { owner: 'team-a', label: '=?UTF-8?B?w6l0w6k=?=', empty: '' },
  });
});

test('a header sent twice is joined with commas, as S3 joins same-named metadata; __proto__ stays an entry', () => {
  const headers = objectHeadersFrom({
    'cache-control': ['no-cache', 'no-store'],
    'x-amz-meta-tag': ['a', 'b'],
    'x-amz-meta-__proto__': 'p',
  });
  assert.equal(headers.content['cache-control'], 'no-cache,no-store');
  assert.equal(headers.metadata['tag'], 'a,b');
  assert.equal(Object.getOwnPropertyDescriptor(headers.metadata, '__proto__')?.value, 'p');
  assert.equal(Object.getPrototypeOf(headers.metadata), Object.prototype);
});

test('a write sends the content headers and metadata; our own type wins over the content headers', () => {
  assert.deepEqual(
    objectRequestHeaders({
      metadata: { owner: 'team-a', 'tributary-site': 's' },
      content: { 'content-type': 'text/plain', expires: '0' },
    }),
    { 'content-type': 'text/plain', expires: '0', 'x-amz-meta-owner': 'team-a', 'x-amz-meta-tributary-site': 's' },
  );
  assert.deepEqual(objectRequestHeaders({ metadata: {}, content: { 'content-type': 'text/plain' }, contentType: 'application/json' }), {
    'content-type': 'application/json',
  });
});

test('aws-chunked, a framing of the request body that some servers store, is no encoding of the object: dropped', () => {
  assert.deepEqual(objectHeadersFrom({ 'content-encoding': 'aws-chunked' }).content, {});
  assert.deepEqual(objectHeadersFrom({ 'content-encoding': 'aws-chunked,gzip' }).content, { 'content-encoding': 'gzip' });
  assert.deepEqual(objectHeadersFrom({ 'content-encoding': 'gzip, AWS-Chunked' }).content, { 'content-encoding': 'gzip' });
  assert.deepEqual(objectHeadersFrom({ 'content-encoding': 'br' }).content, { 'content-encoding': 'br' });
});
