/**
 * Adoption over the real journal with fake stores: a target's first scan pass journals as done
 * what the core is proven to hold (from the listing when both ETags are plain MD5s, else by one
 * HEAD of the lineage), queues everything else, and never adopts a key the journal knows, a
 * suspect core key or an excluded object. Edge retention and deletion propagation still check
 * an adopted copy, which has no SHA-256 recorded when the listing proved it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';

import { buildAgent, type Agent } from '../../../src/agent/build-agent.js';
import { parseConfig } from '../../../src/config/load.js';
import { coreKeyPrefix } from '../../../src/land/core-key-for.js';
import { lineageMetadata } from '../../../src/land/lineage.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { SourceObject } from '../../../src/ports/source-store.js';
import { headProof, listingProof } from '../../../src/transfer/adopt.js';
import { FakeClock, FakeLake, FakeSource, sdkError } from '../../helpers/fakes.js';
import { journalRows, readJournal } from '../../helpers/journal-db.js';
import { tempDir } from '../../helpers/temp-dir.js';

const DAY = 24 * 60 * 60_000;
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const MULTIPART_ETAG = 'c0ffee00c0ffee00c0ffee00c0ffee00-2';

function setup(t: Parameters<typeof tempDir>[0], extra: Record<string, unknown> = {}) {
  const dir = tempDir(t);
  const clock = new FakeClock();
  const source = new FakeSource();
  const lake = new FakeLake();
  const warnings: string[] = [];
  const logger = Object.assign(Object.create(silentLogger) as typeof silentLogger, {
    warn: (_fields: unknown, message: string) => void warnings.push(message),
  });
  const make = (): Agent => {
    const config = parseConfig({
      site: 'site-a',
      journal: join(dir, 'journal'),
      edge: { endpoint: 'http://127.0.0.1:1', buckets: ['edge'] },
      core: { endpoint: 'http://127.0.0.1:2', bucket: 'lake' },
      scan: { pageSize: 2 },
      ...extra,
    });
    const agent = buildAgent(config, { logger, clock, source, lake });
    t.after(() => agent.close());
    return agent;
  };
  return { dir, journal: join(dir, 'journal'), clock, source, lake, warnings, make };
}

/** A copy in the core as an earlier journal landed it: the bytes, with their lineage. */
function landedEarlier(lake: FakeLake, object: SourceObject, data: string, lineage: Partial<Record<string, string>> = {}): void {
  const landed = lineageMetadata({
    site: 'site-a',
    bucket: object.bucket,
    key: object.key,
    etag: object.etag,
    mtimeMs: object.mtime.getTime(),
    sha256Hex: sha256(data),
    size: Buffer.byteLength(data),
  });
  // `lineage` replaces values; an undefined one removes the name.
  const metadata = Object.fromEntries(
    Object.entries({ ...landed, ...lineage }).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  lake.objects.set(`site-a/${object.bucket}/${object.key}`, { data: Buffer.from(data), metadata, content: {} });
}

const rowOf = (journal: string, key: string) => journalRows(journal).find((r) => r.key === key);

test('a first pass adopts what the core is proven to hold, with a HEAD only where the ETags cannot tell, and queues the rest', async (t) => {
  const s = setup(t, { rules: [{ match: { prefix: 'tmp/' }, exclude: true }] });
  const same = s.source.put('edge', 'same.json', '{"same":1}\n');
  landedEarlier(s.lake, same, '{"same":1}\n');
  const multipart = s.source.put('edge', 'multipart.bin', 'multipart bytes');
  landedEarlier(s.lake, multipart, 'multipart bytes');
  s.lake.etags.set('site-a/edge/multipart.bin', MULTIPART_ETAG);
  const otherBytes = s.source.put('edge', 'other-bytes.json', '{"v":"new"}\n');
  landedEarlier(s.lake, otherBytes, '{"v":"old"}\n');
  const otherLineage = s.source.put('edge', 'other-lineage.bin', 'lineage bytes');
  landedEarlier(s.lake, otherLineage, 'lineage bytes', { 'tributary-source-etag': 'ffffffffffffffffffffffffffffffff' });
  s.lake.etags.set('site-a/edge/other-lineage.bin', MULTIPART_ETAG);
  const noSha = s.source.put('edge', 'no-sha.bin', 'no sha bytes');
  landedEarlier(s.lake, noSha, 'no sha bytes', { 'tributary-sha256': undefined });
  s.lake.etags.set('site-a/edge/no-sha.bin', MULTIPART_ETAG);
  s.source.put('edge', 'missing.json', '{"missing":1}\n');
  const excluded = s.source.put('edge', 'tmp/x.json', '{"tmp":1}\n');
  landedEarlier(s.lake, excluded, '{"tmp":1}\n');
  // Another site's prefix and the agent's own entries are not listed.
  s.lake.objects.set('site-b/edge/same.json', { data: Buffer.from('{"same":1}\n'), metadata: {}, content: {} });
  s.lake.objects.set('_tributary/sites/site-a/heartbeat.json', { data: Buffer.from('{}'), metadata: {}, content: {} });

  const agent = s.make();
  const result = await agent.scan();
  assert.deepEqual(
    { adopting: result.adopting, adopted: result.adopted, bytes: result.adoptedBytes, queued: result.queued, skipped: result.skipped },
    { adopting: true, adopted: 2, bytes: same.size + multipart.size, queued: 4, skipped: 1 },
  );
  // The core's 6 objects under site-a/edge/ in pages of 2; HEADs only where an ETag is no plain MD5.
  assert.equal(s.lake.calls.filter((c) => c === 'list').length, 3);
  assert.equal(s.lake.calls.filter((c) => c === 'head').length, 3);

  const adoptedSame = rowOf(s.journal, 'same.json')!;
  assert.deepEqual(
    [adoptedSame.state, adoptedSame.core_key, adoptedSame.sha256],
    ['done', 'site-a/edge/same.json', null],
    'proved by the listing: no SHA-256 known',
  );
  const adoptedMultipart = rowOf(s.journal, 'multipart.bin')!;
  assert.deepEqual([adoptedMultipart.state, adoptedMultipart.sha256], ['done', sha256('multipart bytes')]);
  for (const key of ['other-bytes.json', 'other-lineage.bin', 'no-sha.bin', 'missing.json']) {
    assert.equal(rowOf(s.journal, key)?.state, 'queued', key);
  }
  assert.equal(rowOf(s.journal, 'tmp/x.json')?.state, 'skipped');
  assert.deepEqual(agent.journal.adoptedTotals(), { objects: 2, bytes: same.size + multipart.size });

  // Adopted objects are never listed in a manifest; the ones sent are.
  const batches = readJournal(s.journal, (db) =>
    db
      .prepare(
        `SELECT o.key, b.adopted, b.written_at IS NOT NULL AS written FROM objects o JOIN manifest_batches b ON b.id = o.manifest_batch
         ORDER BY o.key`,
      )
      .all(),
  );
  assert.deepEqual(batches, [
    { key: 'multipart.bin', adopted: 1, written: 1 },
    { key: 'same.json', adopted: 1, written: 1 },
  ]);
  await agent.runner.run({ mode: 'once', retryHorizonMs: 0, maxOutageMs: 0, signal: new AbortController().signal });
  await agent.manifests.flush();
  const listed = [...s.lake.objects.keys()].filter((k) => k.startsWith('_tributary/manifests/'));
  assert.equal(listed.length, 1);
  const lines = s.lake.objects.get(listed[0]!)!.data.toString().trim().split('\n');
  assert.deepEqual(lines.map((l) => (JSON.parse(l) as { source_key: string }).source_key).sort(), [
    'missing.json',
    'no-sha.bin',
    'other-bytes.json',
    'other-lineage.bin',
  ]);

  // The next pass adopts nothing and asks the core nothing.
  const calls = s.lake.calls.length;
  const again = await agent.scan();
  assert.equal(again.adopting, false);
  assert.equal(s.lake.calls.slice(calls).filter((c) => c === 'list' || c === 'head').length, 0);
  assert.deepEqual(
    readJournal(s.journal, (db) => db.prepare('SELECT count(*) AS n FROM adoption_core_objects').get()),
    { n: 0 },
    'the listing is dropped once the first pass completes',
  );
});

test('a key the journal already knows, or a suspect core key, is never adopted', async (t) => {
  const s = setup(t);
  const known = s.source.put('edge', 'known.json', '{"known":1}\n');
  landedEarlier(s.lake, known, '{"known":1}\n');
  const suspect = s.source.put('edge', 'suspect.json', '{"suspect":1}\n');
  landedEarlier(s.lake, suspect, '{"suspect":1}\n');
  const agent = s.make();
  // An event journaled it before the first scan: that row may be in flight.
  agent.journal.recordSeen([known], () => ({ priority: 2, excluded: false }), 'event');
  agent.journal.markCoreCopySuspect({ id: 999, bucket: 'edge', key: 'suspect.json' }, 'site-a/edge/suspect.json');
  const result = await agent.scan();
  assert.equal(result.adopted, 0);
  assert.equal(rowOf(s.journal, 'known.json')?.state, 'queued');
  assert.equal(rowOf(s.journal, 'suspect.json')?.state, 'queued');
});

test('an interrupted first pass goes on adopting in the next process, from a fresh listing of the core', async (t) => {
  const s = setup(t);
  for (const key of ['a.json', 'b.json', 'c.json', 'd.json']) {
    landedEarlier(s.lake, s.source.put('edge', key, `{"key":"${key}"}\n`), `{"key":"${key}"}\n`);
  }
  const first = s.make();
  // The edge fails on the second page: the pass stops after a.json and b.json.
  const listOnce = s.source.list.bind(s.source);
  let pages = 0;
  s.source.list = async (...args) => {
    pages += 1;
    if (pages === 2) throw new Error('edge down');
    return listOnce(...args);
  };
  await assert.rejects(first.scan(), /edge down/);
  assert.deepEqual(
    journalRows(s.journal).map((r) => [r.key, r.state]),
    [
      ['a.json', 'done'],
      ['b.json', 'done'],
    ],
  );
  await first.close();
  s.source.list = listOnce;

  // Meanwhile the core copy of c.json was replaced with other bytes: the fresh listing shows it.
  s.lake.objects.set('site-a/edge/c.json', { data: Buffer.from('{"key":"other"}\n'), metadata: {}, content: {} });
  const next = s.make();
  const listsBefore = s.lake.calls.filter((c) => c === 'list').length;
  const result = await next.scan();
  assert.equal(result.resumed, true);
  assert.equal(result.adopted, 1);
  assert.ok(s.lake.calls.filter((c) => c === 'list').length > listsBefore, 'listed the core again');
  assert.deepEqual(
    journalRows(s.journal)
      .map((r) => [r.key, r.state])
      .sort(),
    [
      ['a.json', 'done'],
      ['b.json', 'done'],
      ['c.json', 'queued'],
      ['d.json', 'done'],
    ],
  );
});

test('a core that does not answer: the first pass waits for its listing, journals nothing, and adopts once it answers', async (t) => {
  const s = setup(t);
  const object = s.source.put('edge', 'a.json', '{"a":1}\n');
  landedEarlier(s.lake, object, '{"a":1}\n');
  s.lake.failNext('list', sdkError.network);
  const agent = s.make();
  await assert.rejects(agent.scan(), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'TRIB_ERR_CORE_UNREACHABLE');
    assert.match(error.message, /first scan pass of edge\/ lists what the core already holds before it journals anything/);
    return true;
  });
  assert.deepEqual(journalRows(s.journal), [], 'nothing queued that would be sent again once the core is back');
  const result = await agent.scan();
  assert.deepEqual([result.adopting, result.adopted, result.queued], [true, 1, 0]);
});

test('a core that refuses the listing: a warning, and the first pass sends everything', async (t) => {
  const s = setup(t);
  const object = s.source.put('edge', 'a.json', '{"a":1}\n');
  landedEarlier(s.lake, object, '{"a":1}\n');
  s.lake.failNext('list', sdkError.accessDenied);
  const agent = s.make();
  const result = await agent.scan();
  assert.deepEqual([result.adopting, result.queued], [false, 1]);
  assert.match(s.warnings.join('\n'), /refused to list what it holds \(s3:ListBucket\)/);
  assert.deepEqual(
    readJournal(s.journal, (db) => db.prepare('SELECT count(*) AS n FROM adoption_targets').get()),
    { n: 0 },
  );
});

test('an object adopted by its plain-MD5 ETag: edge retention deletes it only while the core copy shows that ETag; a deletion follows the same check', async (t) => {
  const s = setup(t, { retention: { deleteFromEdgeAfter: '1d' }, deletes: 'propagate' });
  const kept = s.source.put('edge', 'kept.json', '{"kept":1}\n');
  landedEarlier(s.lake, kept, '{"kept":1}\n');
  const changed = s.source.put('edge', 'changed.json', '{"changed":1}\n');
  landedEarlier(s.lake, changed, '{"changed":1}\n');
  const agent = s.make();
  assert.equal((await agent.scan()).adopted, 2);
  // The core copy of changed.json is replaced behind the agent's back, same size.
  s.lake.objects.set('site-a/edge/changed.json', { data: Buffer.from('{"changed":2}\n'), metadata: {}, content: {} });

  s.clock.advance(2 * DAY);
  const round = await agent.expireEdgeObjects();
  assert.deepEqual([round?.deleted, round?.held], [1, 1]);
  assert.equal(s.source.objects.has('edge/kept.json'), false);
  assert.equal(s.source.objects.has('edge/changed.json'), true, 'held: the core copy is not the adopted one');

  // deletes: propagate, for an adopted copy: deleted only while it shows the adopted ETag.
  s.source.objects.delete('edge/changed.json');
  assert.equal(agent.journal.requestDeletion('edge', 'changed.json', 'event'), true);
  const deletions = await agent.propagateDeletions();
  assert.deepEqual([deletions.deleted, deletions.skipped], [0, 1]);
  assert.ok(s.lake.objects.has('site-a/edge/changed.json'), 'a copy from elsewhere is never removed');
});

test('the core prefix of a target, and the proofs', () => {
  const keys = { site: 'site-a', keyTemplate: '{site}/{bucket}/{key}' };
  assert.equal(coreKeyPrefix(keys, 'pos', 'receipts/'), 'site-a/pos/receipts/');
  assert.equal(coreKeyPrefix(keys, 'pos', ''), 'site-a/pos/');
  assert.equal(coreKeyPrefix({ site: 'site-a', keyTemplate: '{site}/dt={yyyy}-{mm}-{dd}/{bucket}/{key}' }, 'pos', 'r/'), 'site-a/dt=');
  assert.equal(coreKeyPrefix({ site: 'site-a', keyTemplate: '{site}/{bucket}/{yyyy}/{key}' }, 'pos', 'r/'), 'site-a/pos/');

  const md5 = 'd41d8cd98f00b204e9800998ecf8427e';
  assert.equal(listingProof({ etag: md5, size: 0 }, { etag: md5.toUpperCase(), size: 0 }, true), 'same');
  assert.equal(listingProof({ etag: md5, size: 0 }, { etag: md5, size: 1 }, true), 'differs');
  assert.equal(listingProof({ etag: md5, size: 0 }, { etag: 'f'.repeat(32), size: 0 }, true), 'differs');
  assert.equal(listingProof({ etag: md5, size: 0 }, { etag: md5, size: 0 }, false), 'ask', 'SSE-KMS at the core: opaque ETags');
  assert.equal(listingProof({ etag: MULTIPART_ETAG, size: 0 }, { etag: MULTIPART_ETAG, size: 0 }, true), 'ask');

  const object: SourceObject = { bucket: 'edge', key: 'a b/ü.bin', etag: md5, size: 3, mtime: new Date(0) };
  const metadata = lineageMetadata({
    site: 'site-a',
    bucket: 'edge',
    key: object.key,
    etag: md5,
    mtimeMs: 0,
    sha256Hex: sha256('abc'),
    size: 3,
  });
  const head = { size: 3, etag: MULTIPART_ETAG, metadata, content: {}, etagFromMd5: true };
  assert.equal(headProof(head, object, 'site-a'), sha256('abc'));
  assert.equal(headProof(head, object, 'site-b'), undefined, 'another site');
  assert.equal(headProof({ ...head, size: 4 }, object, 'site-a'), undefined);
  assert.equal(headProof({ ...head, etag: 'f'.repeat(32) }, object, 'site-a'), undefined, 'a plain MD5 that shows other bytes');
  assert.equal(headProof({ ...head, metadata: { ...metadata, 'tributary-encoding': 'zstd' } }, object, 'site-a'), undefined);
  assert.equal(headProof({ ...head, metadata: { ...metadata, 'tributary-source-bucket': 'other' } }, object, 'site-a'), undefined);
  assert.equal(headProof(undefined, object, 'site-a'), undefined);
});
