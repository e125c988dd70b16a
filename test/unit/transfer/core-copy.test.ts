/**
 * What a copy in the core proves (src/transfer/core-copy.ts): an ETag contradicts the bytes only
 * when it is a plain MD5 of other bytes; a copy is ours only with our size, our SHA-256, an ETag
 * that does not contradict, and, when asked, the headers it should land with.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { LakeHead } from '../../../src/ports/lake-store.js';
import { META } from '../../../src/land/lineage.js';
import { etagContradicts, isOurs } from '../../../src/transfer/core-copy.js';
import { md5Hex, sha256Hex } from '../../helpers/transfer-stage.js';

const BYTES = 'twelve bytes';
const MD5 = md5Hex(BYTES);
const SHA = sha256Hex(BYTES);

test('etagContradicts: only a plain MD5 ETag of other bytes, derived from the MD5, contradicts', () => {
  const cases: [string, { etag: string | undefined; etagFromMd5: boolean }, string | undefined, boolean][] = [
    ['the same MD5', { etag: MD5, etagFromMd5: true }, MD5, false],
    ['the same MD5 in upper case', { etag: MD5.toUpperCase(), etagFromMd5: true }, MD5, false],
    ['another MD5', { etag: md5Hex('other'), etagFromMd5: true }, MD5, true],
    ['a multipart ETag', { etag: `${md5Hex('other')}-4`, etagFromMd5: true }, MD5, false],
    ['an opaque ETag (SSE-KMS) that looks like an MD5', { etag: md5Hex('other'), etagFromMd5: false }, MD5, false],
    ['no ETag', { etag: undefined, etagFromMd5: true }, MD5, false],
    ['no MD5 to compare with', { etag: md5Hex('other'), etagFromMd5: true }, undefined, false],
    ['a quoted ETag is not plain', { etag: `"${md5Hex('other')}"`, etagFromMd5: true }, MD5, false],
  ];
  for (const [what, answer, md5, expected] of cases) assert.equal(etagContradicts(answer, md5), expected, what);
});

function head(overrides: Partial<LakeHead> = {}): LakeHead {
  return {
    size: 12,
    etag: MD5,
    etagFromMd5: true,
    metadata: { [META.sha256]: SHA, [META.sourceEtag]: MD5, line: '7' },
    content: { 'content-type': 'application/json', 'cache-control': 'no-cache' },
    ...overrides,
  };
}

const HEADERS = { content: { 'content-type': 'application/json', 'cache-control': 'no-cache' }, metadata: { line: '7' } };

test('isOurs: size, SHA-256 and a non-contradicting ETag make a copy ours', () => {
  assert.equal(isOurs(head(), 12, SHA, MD5), true);
  assert.equal(isOurs(head(), 12, SHA, undefined), true, 'no MD5 known (multipart)');
  assert.equal(isOurs(head({ etag: 'kms-opaque', etagFromMd5: false }), 12, SHA, MD5), true, 'an opaque ETag says nothing');
  assert.equal(isOurs(undefined, 12, SHA, MD5), false, 'no copy');
  assert.equal(isOurs(head({ size: 11 }), 12, SHA, MD5), false, 'short');
  assert.equal(isOurs(head({ size: 13 }), 12, SHA, MD5), false, 'long');
  assert.equal(isOurs(head(), 12, sha256Hex('other'), MD5), false, "another version's SHA-256");
  assert.equal(isOurs(head({ metadata: { line: '7' } }), 12, SHA, MD5), false, 'no lineage at all');
  assert.equal(isOurs(head({ etag: md5Hex('other') }), 12, SHA, MD5), false, 'our lineage on other bytes');
});

test('isOurs with headers: the content headers and user metadata must match too; lineage is not compared', () => {
  assert.equal(isOurs(head(), 12, SHA, MD5, HEADERS), true);
  assert.equal(isOurs(head({ content: { 'content-type': 'application/json' } }), 12, SHA, MD5, HEADERS), false, 'Cache-Control lost');
  assert.equal(
    isOurs(head({ metadata: { [META.sha256]: SHA, line: '8' } }), 12, SHA, MD5, HEADERS),
    false,
    'user metadata changed at the edge',
  );
  assert.equal(
    isOurs(head({ metadata: { [META.sha256]: SHA, line: '7', extra: 'x' } }), 12, SHA, MD5, HEADERS),
    false,
    'an entry the edge object does not have',
  );
  assert.equal(isOurs(head({ metadata: { [META.sha256]: SHA, line: '7' } }), 12, SHA, MD5, HEADERS), true, 'lineage entries differ: fine');
  // Without headers (a confirmation of our own upload) a header the core kept otherwise is not asked about.
  assert.equal(isOurs(head({ content: {} }), 12, SHA, MD5), true);
  assert.equal(isOurs(head({ content: {} }), 12, SHA, MD5, HEADERS), false);
});
