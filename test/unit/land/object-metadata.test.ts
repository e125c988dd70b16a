/**
 * What a core object carries besides its bytes: the edge's headers and user metadata beside the
 * lineage, the two things that cannot land (a name conflict, too much metadata), and how a copy's
 * headers are compared with the edge's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { coerceError } from '../../../src/core/errors.js';
import type { ObjectHeaders } from '../../../src/core/object-headers.js';
import { lineageMetadata, META } from '../../../src/land/lineage.js';
import {
  coreObjectHeaders,
  describeDifference,
  headerDifferences,
  metadataBytes,
  USER_METADATA_LIMIT_BYTES,
} from '../../../src/land/object-metadata.js';

const object = { bucket: 'telemetry', key: 'line-1/s1.json' };
const lineage = lineageMetadata({
  site: 'store-0042',
  bucket: object.bucket,
  key: object.key,
  etag: 'd41d8cd98f00b204e9800998ecf8427e',
  mtimeMs: Date.parse('2026-11-27T08:00:00Z'),
  sha256Hex: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  size: 0,
});
const lineageBytes = metadataBytes(lineage);

/** User metadata of exactly `bytes` bytes as S3 counts them: one entry `n` (1 byte) and its value. */
function userMetadataOf(bytes: number): Record<string, string> {
  return { n: 'v'.repeat(bytes - 1) };
}

function refusal(edge: ObjectHeaders) {
  try {
    coreObjectHeaders(edge, lineage, object);
  } catch (error) {
    return coerceError(error);
  }
  assert.fail('expected the object to be refused');
}

test('the core object carries the edge content headers and user metadata, with the lineage beside them', () => {
  const edge: ObjectHeaders = {
    content: { 'content-type': 'application/json', 'cache-control': 'max-age=60', expires: '0' },
    metadata: { owner: 'team-a', note: '=?UTF-8?B?w6l0w6k=?=' },
  };
  const landed = coreObjectHeaders(edge, lineage, object);
  assert.deepEqual(landed.content, edge.content);
  assert.deepEqual(landed.metadata, { ...lineage, owner: 'team-a', note: '=?UTF-8?B?w6l0w6k=?=' }, 'values pass through as sent');
});

test('user metadata and lineage of exactly 2048 bytes land; 2049 bytes are refused, naming both sizes', () => {
  assert.ok(lineageBytes > 300 && lineageBytes < 600, `lineage of ${lineageBytes} bytes`);
  const atLimit = userMetadataOf(USER_METADATA_LIMIT_BYTES - lineageBytes);
  assert.equal(metadataBytes(atLimit) + lineageBytes, 2048);
  assert.equal(coreObjectHeaders({ content: {}, metadata: atLimit }, lineage, object).metadata['n'], atLimit['n']);

  const over = userMetadataOf(USER_METADATA_LIMIT_BYTES - lineageBytes + 1);
  const error = refusal({ content: {}, metadata: over });
  assert.equal(error.code, 'TRIB_ERR_METADATA_TOO_LARGE');
  assert.equal(error.errorClass, 'permanent');
  assert.match(
    error.message,
    new RegExp(
      `edge telemetry/line-1/s1\\.json: user metadata of ${metadataBytes(over)} bytes and lineage of ${lineageBytes} bytes make 2049, over S3's limit of 2048`,
    ),
  );
});

test('sizes count UTF-8 bytes of names and values, names without x-amz-meta-', () => {
  assert.equal(metadataBytes({ ab: 'cd' }), 4);
  assert.equal(metadataBytes({ é: 'ü€' }), 2 + 2 + 3);
  const room = USER_METADATA_LIMIT_BYTES - lineageBytes - 1; // bytes left for the value of an entry named `n`
  const fits = 'é'.repeat(Math.floor(room / 2)) + 'x'.repeat(room % 2);
  assert.equal(Buffer.byteLength(fits), room);
  assert.doesNotThrow(() => coreObjectHeaders({ content: {}, metadata: { n: fits } }, lineage, object));
  // One character more, well within the limit counted in characters, is over it in bytes.
  const over = `${fits}é`;
  assert.ok(over.length < room);
  assert.equal(refusal({ content: {}, metadata: { n: over } }).code, 'TRIB_ERR_METADATA_TOO_LARGE');
});

test('a user entry named like any lineage entry is refused, naming the entry; other tributary- names land', () => {
  for (const name of Object.values(META)) {
    const error = refusal({ content: {}, metadata: { owner: 'a', [name]: 'from the edge' } });
    assert.equal(error.code, 'TRIB_ERR_METADATA_CONFLICT', name);
    assert.equal(error.errorClass, 'permanent');
    assert.match(
      error.message,
      new RegExp(`edge telemetry/line-1/s1\\.json: user metadata x-amz-meta-${name} has the name of a lineage entry`),
    );
  }
  assert.equal(
    refusal({ content: {}, metadata: { 'Tributary-SHA256': 'x' } }).code,
    'TRIB_ERR_METADATA_CONFLICT',
    'names compare without case',
  );
  const landed = coreObjectHeaders({ content: {}, metadata: { 'tributary-batch': '7' } }, lineage, object);
  assert.equal(landed.metadata['tributary-batch'], '7');
});

test('a conflict is reported before the size: both at once name the conflict', () => {
  const error = refusal({ content: {}, metadata: { [META.site]: 'x'.repeat(4000) } });
  assert.equal(error.code, 'TRIB_ERR_METADATA_CONFLICT');
});

test('header differences: every content header and user entry, both values, lineage left out', () => {
  const edge: ObjectHeaders = {
    content: { 'content-type': 'application/json', 'cache-control': 'max-age=60', 'content-language': 'de' },
    metadata: { owner: 'team-a', gone: '1' },
  };
  assert.deepEqual(headerDifferences(edge, { content: edge.content, metadata: { ...edge.metadata, ...lineage } }), []);
  const differences = headerDifferences(edge, {
    content: { 'content-type': 'binary/octet-stream', 'cache-control': 'max-age=60', 'content-encoding': 'gzip' },
    metadata: { ...lineage, owner: 'team-b', extra: 'x' },
  });
  assert.deepEqual(differences.map(describeDifference), [
    'Content-Type: core "binary/octet-stream", edge "application/json"',
    'Content-Encoding: core "gzip", edge (none)',
    'Content-Language: core (none), edge "de"',
    'x-amz-meta-extra: core "x", edge (none)',
    'x-amz-meta-gone: core (none), edge "1"',
    'x-amz-meta-owner: core "team-b", edge "team-a"',
  ]);
});

test('an edge object without a Content-Type accepts the default type a server gives its copy', () => {
  const edge: ObjectHeaders = { content: {}, metadata: {} };
  assert.deepEqual(headerDifferences(edge, { content: { 'content-type': 'binary/octet-stream' }, metadata: lineage }), []);
  assert.equal(headerDifferences(edge, { content: { expires: '0' }, metadata: {} }).length, 1, 'but not another header');
});

test('entry names that are properties of every object are entries like any other', () => {
  const edge: ObjectHeaders = {
    content: {},
    metadata: Object.fromEntries([
      ['constructor', 'c'],
      ['__proto__', 'p'],
    ]),
  };
  assert.deepEqual(headerDifferences(edge, edge), []);
  assert.deepEqual(headerDifferences({ content: {}, metadata: {} }, { content: {}, metadata: {} }), []);
  const landed = coreObjectHeaders(edge, lineage, object);
  assert.equal(Object.getOwnPropertyDescriptor(landed.metadata, '__proto__')?.value, 'p');
  assert.deepEqual(
    headerDifferences(edge, { content: {}, metadata: {} }).map((d) => d.header),
    ['x-amz-meta-__proto__', 'x-amz-meta-constructor'],
  );
});
