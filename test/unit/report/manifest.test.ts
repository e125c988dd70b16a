/**
 * Manifest files of a batch: one NDJSON file per landing day, every line a manifest line that
 * ends with a newline, bytes identical to joining the lines, whatever the batch size and keys. A
 * line reads back as the landing it records (what a new journal adopts by); anything else does not.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseManifestLine } from '../../../src/core/manifest-line.js';
import type { JournalObject } from '../../../src/ports/journal.js';
import { manifestFiles, manifestLine } from '../../../src/report/manifest.js';

const DAY = 86_400_000;

function object(i: number): JournalObject {
  return {
    id: i,
    bucket: 'pos',
    key: `receipts/č-${i}/${'ü'.repeat(i % 50)}.json`,
    etag: `etag-${i}`,
    mtimeMs: Date.UTC(2026, 10, 1) + i,
    size: i,
    coreKey: `site-1/pos/receipts/${i}`,
    coreSize: i,
    sha256: 'ab'.repeat(32),
    detectedBy: i % 2 === 0 ? 'scan' : 'event',
    firstSeenAt: Date.UTC(2026, 10, 2),
    landedAt: Date.UTC(2026, 10, 2) + (i % 3) * DAY,
  } as JournalObject;
}

test('a batch larger than one write chunk gives the same bytes as joined lines, one file per day', () => {
  const objects = Array.from({ length: 5000 }, (_, i) => object(i));
  let pulled = 0;
  const { files, lines } = manifestFiles(
    'site-1',
    'lake',
    { id: 7, createdAt: 1234 },
    (function* () {
      for (const o of objects) {
        pulled += 1;
        yield o;
      }
    })(),
  );
  assert.equal(pulled, 5000);
  assert.equal(lines, 5000);
  assert.deepEqual([...files.keys()].sort(), [
    '_tributary/manifests/site=site-1/dt=2026-11-02/batch-1234-00000007.ndjson',
    '_tributary/manifests/site=site-1/dt=2026-11-03/batch-1234-00000007.ndjson',
    '_tributary/manifests/site=site-1/dt=2026-11-04/batch-1234-00000007.ndjson',
  ]);
  for (const [key, body] of files) {
    const day = /dt=([\d-]+)/.exec(key)![1]!;
    const expected = objects.filter((o) => new Date(o.landedAt!).toISOString().startsWith(day));
    assert.ok(body.length > 256 * 1024, 'each file spans several chunks');
    assert.equal(body.toString('utf8'), expected.map((o) => `${JSON.stringify(manifestLine('site-1', 'lake', o))}\n`).join(''));
  }
});

test('an empty batch has no files', () => {
  assert.deepEqual(manifestFiles('s', 'lake', { id: 1, createdAt: 1 }, []), { files: new Map(), lines: 0 });
});

test('a landing made for a reason says so in its line (`relanding`); an ordinary landing has no such field', () => {
  const ordinary = { ...object(3), landingReason: null } as JournalObject;
  assert.equal('relanding' in manifestLine('site-1', 'lake', ordinary), false);
  for (const reason of ['repair', 'core-copy-missing'] as const) {
    const line = manifestLine('site-1', 'lake', { ...ordinary, landingReason: reason });
    assert.equal(line.relanding, reason);
    assert.equal((JSON.parse(JSON.stringify(line)) as { relanding?: string }).relanding, reason);
  }
});

test('a line carries the core ETag the copy landed with, and an adopted copy is marked, at the time it was adopted', () => {
  const landed = { ...object(4), coreEtag: 'abc-2', landingReason: null, adoptedBy: null } as JournalObject;
  const line = manifestLine('site-1', 'lake', landed);
  assert.equal(line.core_etag, 'abc-2');
  assert.equal('adopted' in line, false);
  assert.equal('core_etag' in manifestLine('site-1', 'lake', { ...landed, coreEtag: null }), false);
  const adopted = manifestLine('site-1', 'lake', { ...landed, adoptedBy: 'head', landedAt: null, firstSeenAt: Date.UTC(2027, 0, 2) });
  assert.deepEqual([adopted.adopted, adopted.landed_at, adopted.lag_seconds], [true, '2027-01-02T00:00:00.000Z', 0]);
  const { files } = manifestFiles('site-1', 'lake', { id: 1, createdAt: 1 }, [{ ...landed, adoptedBy: 'head', landedAt: null }]);
  assert.deepEqual(
    [...files.keys()],
    ['_tributary/manifests/site=site-1/dt=2026-11-02/batch-1-00000001.ndjson'],
    'filed by its adoption day',
  );
});

test('what a line says is read back as it was written; anything else is no manifest line', () => {
  const landed = { ...object(4), coreEtag: 'abc-2', landingReason: 'repair', adoptedBy: null } as JournalObject;
  const text = JSON.stringify(manifestLine('site-1', 'lake', landed));
  assert.deepEqual(parseManifestLine(text), {
    coreKey: landed.coreKey,
    site: 'site-1',
    coreBucket: 'lake',
    sourceBucket: 'pos',
    sourceKey: landed.key,
    sourceEtag: 'etag-4',
    sourceMtimeMs: landed.mtimeMs,
    size: 4,
    coreSize: 4,
    coreEtag: 'abc-2',
    sha256: 'ab'.repeat(32),
    landedAtMs: landed.landedAt,
  });
  const fields = JSON.parse(text) as Record<string, unknown>;
  assert.equal(parseManifestLine(JSON.stringify({ ...fields, core_etag: undefined }))?.coreEtag, null, 'a line from before core_etag');
  assert.equal(parseManifestLine(JSON.stringify({ ...fields, core_etag: null }))?.coreEtag, null);
  for (const [field, value] of [
    ['sha256', ''],
    ['sha256', 'AB'.repeat(32)],
    ['size', -1],
    ['size', '4'],
    ['core_size', 1.5],
    ['source_mtime', 'yesterday'],
    ['landed_at', 7],
    ['core_key', ''],
    ['source_key', undefined],
    ['core_etag', 5],
  ] as const) {
    assert.equal(parseManifestLine(JSON.stringify({ ...fields, [field]: value })), undefined, `${field}: ${String(value)}`);
  }
  for (const other of ['', 'null', '[]', '"line"', '{"site":', text.slice(0, -1)]) assert.equal(parseManifestLine(other), undefined, other);
});
