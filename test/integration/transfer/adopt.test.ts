/**
 * Adoption over the real journal with fake stores: a target's first scan pass journals as done
 * what the core is proven to hold — by the site's manifests without a request (the latest line for
 * the core key names the edge version, and the listing shows the copy it left), else by one HEAD of
 * the lineage, which then gets a manifest line marked adopted — queues everything else (another
 * tool's copy, an older version whose headers changed, other bytes), and never adopts a key the
 * journal knows, a suspect core key or an excluded object. The manifests are read once per
 * process; what is not a manifest line is skipped and counted. `verify --repair` adopts only by the
 * lineage too. Edge retention and deletion propagation still check an adopted copy, also one
 * adopted without a SHA-256 before 0015.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import Database from 'better-sqlite3';

import { buildAgent, type Agent } from '../../../src/agent/build-agent.js';
import { parseConfig } from '../../../src/config/load.js';
import type { ManifestLine } from '../../../src/core/manifest-line.js';
import { coreKeyPrefix } from '../../../src/land/core-key-for.js';
import { lineageMetadata } from '../../../src/land/lineage.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { SourceObject } from '../../../src/ports/source-store.js';
import { headProof, listingProof, manifestProof } from '../../../src/transfer/adopt.js';
import { FakeClock, FakeLake, FakeSource, sdkError } from '../../helpers/fakes.js';
import { journalRows, readJournal } from '../../helpers/journal-db.js';
import { tempDir } from '../../helpers/temp-dir.js';

const DAY = 24 * 60 * 60_000;
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');
const MULTIPART_ETAG = 'c0ffee00c0ffee00c0ffee00c0ffee00-2';
const MANIFESTS = '_tributary/manifests/site=site-a/';

function setup(t: Parameters<typeof tempDir>[0], extra: Record<string, unknown> = {}) {
  const dir = tempDir(t);
  const clock = new FakeClock();
  const source = new FakeSource();
  const lake = new FakeLake();
  const warnings: { fields: Record<string, unknown>; message: string }[] = [];
  const infos: { fields: Record<string, unknown>; message: string }[] = [];
  const logger = Object.assign(Object.create(silentLogger) as typeof silentLogger, {
    warn: (fields: Record<string, unknown>, message: string) => void warnings.push({ fields, message }),
    info: (fields: Record<string, unknown>, message: string) => void infos.push({ fields, message }),
  });
  const make = (more: Record<string, unknown> = {}): Agent => {
    const config = parseConfig({
      site: 'site-a',
      journal: join(dir, 'journal'),
      edge: { endpoint: 'http://127.0.0.1:1', buckets: ['edge'] },
      core: { endpoint: 'http://127.0.0.1:2', bucket: 'lake' },
      scan: { pageSize: 2 },
      ...extra,
      ...more,
    });
    const agent = buildAgent(config, { logger, clock, source, lake });
    t.after(() => agent.close());
    return agent;
  };
  const count = (call: string, from = 0) => lake.calls.slice(from).filter((c) => c === call).length;
  return { dir, journal: join(dir, 'journal'), clock, source, lake, warnings, infos, make, count };
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

/** The manifest line the journal that landed `object` (as `data`) wrote; `extra` replaces fields. */
function lineOf(object: SourceObject, data: string, extra: Partial<Record<keyof ManifestLine, unknown>> = {}): Record<string, unknown> {
  return {
    site: 'site-a',
    source_bucket: object.bucket,
    source_key: object.key,
    source_etag: object.etag,
    source_mtime: object.mtime.toISOString(),
    core_bucket: 'lake',
    core_key: `site-a/${object.bucket}/${object.key}`,
    size: object.size,
    core_size: Buffer.byteLength(data),
    core_etag: md5(data),
    sha256: sha256(data),
    detected_by: 'scan',
    first_seen_at: '2026-11-27T08:00:01.000Z',
    landed_at: '2026-11-27T08:00:02.000Z',
    lag_seconds: 1,
    ...extra,
  };
}

/** A manifest file of the site, as the manifest writer names them; lines as objects or raw text. */
function manifestFile(lake: FakeLake, name: string, lines: readonly (Record<string, unknown> | string)[], endNewline = true): void {
  const text = lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + (endNewline ? '\n' : '');
  lake.objects.set(`${MANIFESTS}dt=2026-11-27/${name}`, { data: Buffer.from(text), metadata: {}, content: {} });
}

function manifestLines(lake: FakeLake): Record<string, unknown>[] {
  return [...lake.objects.entries()]
    .filter(([key]) => key.startsWith(MANIFESTS))
    .flatMap(([, o]) =>
      o.data
        .toString()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    );
}

const rowOf = (journal: string, key: string) =>
  readJournal(journal, (db) => db.prepare('SELECT * FROM objects WHERE key = ? ORDER BY id DESC LIMIT 1').get(key)) as
    { state: string; core_key: string; sha256: string | null; adopted_by: string | null; manifest_batch: number | null } | undefined;

const once = (agent: Agent) => agent.runner.run({ mode: 'once', retryHorizonMs: 0, maxOutageMs: 0, signal: new AbortController().signal });

test('a first pass adopts by the manifests without a request, by a HEAD of the lineage where no line proves it, and sends the rest', async (t) => {
  const s = setup(t, { rules: [{ match: { prefix: 'tmp/' }, exclude: true }] });
  const same = s.source.put('edge', 'same.json', '{"same":1}\n');
  landedEarlier(s.lake, same, '{"same":1}\n');
  const multipart = s.source.put('edge', 'multipart.bin', 'multipart bytes');
  landedEarlier(s.lake, multipart, 'multipart bytes');
  s.lake.etags.set('site-a/edge/multipart.bin', MULTIPART_ETAG);
  // The journal that landed it was lost before it wrote the manifest.
  const unlisted = s.source.put('edge', 'unlisted.json', '{"unlisted":1}\n');
  landedEarlier(s.lake, unlisted, '{"unlisted":1}\n');
  const otherBytes = s.source.put('edge', 'other-bytes.json', '{"v":"new"}\n');
  landedEarlier(s.lake, otherBytes, '{"v":"old"}\n');
  const otherLineage = s.source.put('edge', 'other-lineage.bin', 'lineage bytes');
  landedEarlier(s.lake, otherLineage, 'lineage bytes', { 'tributary-source-etag': 'ffffffffffffffffffffffffffffffff' });
  s.lake.etags.set('site-a/edge/other-lineage.bin', MULTIPART_ETAG);
  const noSha = s.source.put('edge', 'no-sha.bin', 'no sha bytes');
  landedEarlier(s.lake, noSha, 'no sha bytes', { 'tributary-sha256': undefined });
  s.lake.etags.set('site-a/edge/no-sha.bin', MULTIPART_ETAG);
  // Another tool's copy: the same bytes, the same MD5, no lineage.
  s.source.put('edge', 'no-lineage.json', '{"tool":1}\n');
  s.lake.objects.set('site-a/edge/no-lineage.json', { data: Buffer.from('{"tool":1}\n'), metadata: {}, content: {} });
  s.source.put('edge', 'missing.json', '{"missing":1}\n');
  const excluded = s.source.put('edge', 'tmp/x.json', '{"tmp":1}\n');
  landedEarlier(s.lake, excluded, '{"tmp":1}\n');
  // Another site's prefix and the agent's own entries are not listed as core copies.
  s.lake.objects.set('site-b/edge/same.json', { data: Buffer.from('{"same":1}\n'), metadata: {}, content: {} });
  s.lake.objects.set('_tributary/sites/site-a/heartbeat.json', { data: Buffer.from('{}'), metadata: {}, content: {} });
  manifestFile(s.lake, 'batch-1-00000001.ndjson', [
    lineOf(same, '{"same":1}\n'),
    lineOf(multipart, 'multipart bytes', { core_etag: MULTIPART_ETAG }),
    lineOf(otherBytes, '{"v":"new"}\n'),
    lineOf(excluded, '{"tmp":1}\n'),
  ]);

  const agent = s.make();
  const result = await agent.scan();
  assert.deepEqual(
    { adopting: result.adopting, adopted: result.adopted, bytes: result.adoptedBytes, queued: result.queued, skipped: result.skipped },
    { adopting: true, adopted: 3, bytes: same.size + multipart.size + unlisted.size, queued: 5, skipped: 1 },
  );
  // The core's 8 objects under site-a/edge/ in pages of 2, one page of manifest files and one GET;
  // HEADs only where no manifest line proves the copy and the listing does not rule it out.
  assert.equal(s.count('list'), 4 + 1);
  assert.equal(s.count('read'), 1);
  assert.equal(s.count('head'), 4, 'unlisted, other-lineage, no-sha, no-lineage');
  assert.deepEqual(s.infos.find((i) => i.message.startsWith("read the site's manifests"))?.fields, {
    files: 1,
    otherFiles: 0,
    lines: 4,
    kept: 4,
    skipped: 0,
  });

  const bySame = rowOf(s.journal, 'same.json')!;
  assert.deepEqual(
    [bySame.state, bySame.core_key, bySame.sha256, bySame.adopted_by],
    ['done', 'site-a/edge/same.json', sha256('{"same":1}\n'), 'manifest'],
    'the SHA-256 from the manifest line',
  );
  assert.deepEqual(
    [rowOf(s.journal, 'multipart.bin')!.sha256, rowOf(s.journal, 'multipart.bin')!.adopted_by],
    [sha256('multipart bytes'), 'manifest'],
  );
  const byHead = rowOf(s.journal, 'unlisted.json')!;
  assert.deepEqual(
    [byHead.state, byHead.sha256, byHead.adopted_by, byHead.manifest_batch],
    ['done', sha256('{"unlisted":1}\n'), 'head', null],
  );
  for (const key of ['other-bytes.json', 'other-lineage.bin', 'no-sha.bin', 'no-lineage.json', 'missing.json']) {
    assert.equal(rowOf(s.journal, key)?.state, 'queued', key);
  }
  assert.equal(rowOf(s.journal, 'tmp/x.json')?.state, 'skipped');
  assert.deepEqual(agent.journal.adoptedTotals(), { objects: 3, bytes: same.size + multipart.size + unlisted.size });

  // What the manifests list is never listed again; what a HEAD proved gets its first line, marked.
  const listedBefore = manifestLines(s.lake).length;
  await once(agent);
  await agent.manifests.flush();
  const written = manifestLines(s.lake).slice(listedBefore);
  assert.deepEqual(written.map((l) => [l['source_key'], l['adopted'] ?? false]).sort(), [
    ['missing.json', false],
    ['no-lineage.json', false],
    ['no-sha.bin', false],
    ['other-bytes.json', false],
    ['other-lineage.bin', false],
    ['unlisted.json', true],
  ]);
  const adoptedLine = written.find((l) => l['source_key'] === 'unlisted.json')!;
  assert.deepEqual(
    [adoptedLine['sha256'], adoptedLine['core_etag'], adoptedLine['landed_at']],
    [sha256('{"unlisted":1}\n'), md5('{"unlisted":1}\n'), new Date(s.clock.now()).toISOString()],
    'landed_at of an adopted line: when it was adopted',
  );
  assert.equal(
    s.lake.objects.get('site-a/edge/no-lineage.json')?.metadata['tributary-source-key'],
    'no-lineage.json',
    'another tool’s copy was replaced by a landing with lineage',
  );

  // The next pass adopts nothing and asks the core nothing; the listing and the lines are dropped.
  let calls = s.lake.calls.length;
  const again = await agent.scan();
  assert.equal(again.adopting, false);
  assert.equal(s.count('list', calls) + s.count('head', calls) + s.count('read', calls), 0);
  assert.deepEqual(
    readJournal(s.journal, (db) =>
      db
        .prepare('SELECT (SELECT count(*) FROM adoption_core_objects) AS listing, (SELECT count(*) FROM adoption_manifest_lines) AS lines')
        .get(),
    ),
    { listing: 0, lines: 0 },
  );

  // Lost once more: now every copy is in a manifest, and a new journal adopts them all without a HEAD.
  // (A single PUT replaced the multipart copies: their ETags are plain MD5s now.)
  s.lake.etags.delete('site-a/edge/other-lineage.bin');
  s.lake.etags.delete('site-a/edge/no-sha.bin');
  await agent.close();
  rmSync(s.journal, { recursive: true });
  calls = s.lake.calls.length;
  const fresh = await s.make().scan();
  assert.deepEqual([fresh.adopted, fresh.queued], [8, 0]);
  assert.equal(s.count('head', calls), 0);
  assert.equal(s.count('read', calls), 2, 'two manifest files');
});

test('a line proves only the version it names, as the latest line for the key, and only the copy it left', async (t) => {
  const s = setup(t);
  const old = new Date('2026-11-01T10:00:00Z');
  // Same bytes, new Last-Modified and Content-Type at the edge since it landed.
  const retypedBefore: SourceObject = { ...s.source.put('edge', 'retyped.json', '{"r":1}\n', old) };
  landedEarlier(s.lake, retypedBefore, '{"r":1}\n');
  s.source.put('edge', 'retyped.json', '{"r":1}\n', new Date('2026-11-20T10:00:00Z'), {
    content: { 'content-type': 'application/json' },
    metadata: {},
  });
  // The edge rolled back to v1 (same size as v2); the core holds v2, landed later.
  const v1 = s.source.put('edge', 'rolled-back.bin', 'version-1', old);
  const v2: SourceObject = { ...v1, etag: md5('version-2'), mtime: new Date('2026-11-10T10:00:00Z') };
  landedEarlier(s.lake, v2, 'version-2');
  s.lake.etags.set('site-a/edge/rolled-back.bin', MULTIPART_ETAG);
  // Replaced at the core by another tool since it landed: same size, another multipart ETag.
  const replaced = s.source.put('edge', 'replaced.bin', 'replaced', old);
  s.lake.objects.set('site-a/edge/replaced.bin', { data: Buffer.from('REPLACED'), metadata: {}, content: {} });
  s.lake.etags.set('site-a/edge/replaced.bin', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-2');
  // Two lines of the same time that disagree: neither proves anything, a HEAD does.
  const tie = s.source.put('edge', 'tie.json', '{"tie":1}\n', old);
  landedEarlier(s.lake, tie, '{"tie":1}\n');
  const good = s.source.put('edge', 'good.json', '{"good":1}\n', old);
  landedEarlier(s.lake, good, '{"good":1}\n');

  // Files are read in key order: the later landing of rolled-back.bin comes first.
  manifestFile(s.lake, 'batch-1-00000001.ndjson', [
    lineOf(v2, 'version-2', { core_etag: MULTIPART_ETAG, landed_at: '2026-11-10T10:00:05.000Z' }),
    lineOf(tie, '{"tie":1}\n'),
  ]);
  manifestFile(
    s.lake,
    'batch-2-00000002.ndjson',
    [
      lineOf(retypedBefore, '{"r":1}\n'),
      lineOf(v1, 'version-1', { core_etag: null, landed_at: '2026-11-01T10:00:05.000Z' }),
      lineOf(replaced, 'replaced', { core_etag: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-2' }),
      lineOf(tie, '{"tie":1}\n', { source_etag: 'ffffffffffffffffffffffffffffffff' }),
      // Not manifest lines of this site and core bucket: skipped and counted.
      'not json',
      '[1, 2]',
      JSON.stringify(lineOf(good, '{"good":1}\n', { sha256: '' })),
      JSON.stringify(lineOf(good, '{"good":1}\n', { site: 'site-b' })),
      JSON.stringify(lineOf(good, '{"good":1}\n', { core_bucket: 'other-lake' })),
      `{"core_key":"${'x'.repeat(70_000)}"}`,
      '',
      // Outside the target's prefix: read, not kept.
      JSON.stringify(lineOf({ ...good, bucket: 'other' }, '{"good":1}\n')),
      JSON.stringify(lineOf(good, '{"good":1}\n')),
    ],
    false,
  );
  s.lake.objects.set(`${MANIFESTS}dt=2026-11-27/batch-3.ndjson.zst`, { data: Buffer.from([0x28, 0xb5]), metadata: {}, content: {} });

  const agent = s.make();
  const result = await agent.scan();
  assert.deepEqual([result.adopted, result.queued], [2, 3]);
  assert.deepEqual(
    journalRows(s.journal)
      .map((r) => [r.key, r.state, (r as unknown as { adopted_by: string | null }).adopted_by])
      .sort(),
    [
      ['good.json', 'done', 'manifest'],
      ['replaced.bin', 'queued', null],
      ['retyped.json', 'queued', null],
      ['rolled-back.bin', 'queued', null],
      ['tie.json', 'done', 'head'],
    ],
  );
  assert.equal(s.count('read'), 2, 'the .zst file is not read');
  assert.equal(s.count('head'), 4, 'every key but good.json');
  const reading = s.warnings.find((w) => w.message.startsWith("some of the site's manifests"));
  assert.deepEqual(reading?.fields, { files: 2, otherFiles: 1, lines: 14, kept: 7, skipped: 6 });

  // Sent: retyped.json with its new headers and Last-Modified in the lineage.
  await once(agent);
  const retyped = s.lake.objects.get('site-a/edge/retyped.json')!;
  assert.equal(retyped.content['content-type'], 'application/json');
  assert.equal(retyped.metadata['tributary-source-mtime'], '2026-11-20T10:00:00.000Z');
  assert.equal(s.lake.objects.get('site-a/edge/rolled-back.bin')!.data.toString(), 'version-1');
  assert.equal(s.lake.objects.get('site-a/edge/replaced.bin')!.data.toString(), 'replaced');
});

test('the manifests are read once for every target that adopts; a refusal costs HEADs, a failure makes the pass wait', async (t) => {
  const s = setup(t, { edge: { endpoint: 'http://127.0.0.1:1', buckets: ['edge', 'more'] } });
  const a = s.source.put('edge', 'a.json', '{"a":1}\n');
  landedEarlier(s.lake, a, '{"a":1}\n');
  const b = s.source.put('more', 'b.json', '{"b":1}\n');
  landedEarlier(s.lake, b, '{"b":1}\n');
  manifestFile(s.lake, 'batch-1-00000001.ndjson', [lineOf(a, '{"a":1}\n'), lineOf(b, '{"b":1}\n')]);

  // The GET of the manifest fails: nothing is journaled, the pass waits for the core.
  s.lake.failNext('read', sdkError.network);
  const agent = s.make();
  await assert.rejects(agent.scan(), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'TRIB_ERR_CORE_UNREACHABLE');
    assert.match(error.message, /lists what the core already holds before it journals anything: it waits for the core/);
    return true;
  });
  assert.deepEqual(journalRows(s.journal), []);
  const result = await agent.scan();
  assert.deepEqual([result.adopted, result.queued], [2, 0]);
  assert.equal(s.count('read'), 2, 'one failed GET, then one for both targets');
  assert.equal(s.count('head'), 0);
  assert.deepEqual(
    readJournal(s.journal, (db) => db.prepare('SELECT count(*) AS n FROM adoption_manifest_lines').get()),
    { n: 0 },
  );
  await agent.close();

  // Refused (no s3:GetObject on _tributary/): a warning, and every adoption needs a HEAD.
  rmSync(s.journal, { recursive: true });
  s.lake.failNext('read', sdkError.accessDenied);
  const calls = s.lake.calls.length;
  const refused = await s.make().scan();
  assert.deepEqual([refused.adopted, refused.queued], [2, 0]);
  assert.equal(s.count('head', calls), 2);
  assert.ok(s.warnings.some((w) => w.message.includes("refused to list or serve the site's manifests")));
});

test('a key the journal already knows, or a suspect core key, is never adopted', async (t) => {
  const s = setup(t);
  const known = s.source.put('edge', 'known.json', '{"known":1}\n');
  landedEarlier(s.lake, known, '{"known":1}\n');
  const suspect = s.source.put('edge', 'suspect.json', '{"suspect":1}\n');
  landedEarlier(s.lake, suspect, '{"suspect":1}\n');
  manifestFile(s.lake, 'batch-1-00000001.ndjson', [lineOf(known, '{"known":1}\n'), lineOf(suspect, '{"suspect":1}\n')]);
  const agent = s.make();
  // An event journaled it before the first scan: that row may be in flight.
  agent.journal.recordSeen([known], () => ({ priority: 2, excluded: false }), 'event');
  agent.journal.markCoreCopySuspect({ id: 999, bucket: 'edge', key: 'suspect.json' }, 'site-a/edge/suspect.json');
  const result = await agent.scan();
  assert.equal(result.adopted, 0);
  assert.equal(rowOf(s.journal, 'known.json')?.state, 'queued');
  assert.equal(rowOf(s.journal, 'suspect.json')?.state, 'queued');
});

test('an interrupted first pass goes on adopting in the next process, from a fresh listing of the core and its manifests', async (t) => {
  const s = setup(t);
  const lines: Record<string, unknown>[] = [];
  for (const key of ['a.json', 'b.json', 'c.json', 'd.json']) {
    const object = s.source.put('edge', key, `{"key":"${key}"}\n`);
    landedEarlier(s.lake, object, `{"key":"${key}"}\n`);
    lines.push(lineOf(object, `{"key":"${key}"}\n`));
  }
  manifestFile(s.lake, 'batch-1-00000001.ndjson', lines);
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
  const calls = s.lake.calls.length;
  const result = await next.scan();
  assert.equal(result.resumed, true);
  assert.equal(result.adopted, 1);
  assert.ok(s.count('list', calls) > 0, 'listed the core again');
  assert.equal(s.count('read', calls), 1, 'read the manifests again');
  assert.equal(s.count('head', calls), 0);
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
  assert.match(s.warnings.map((w) => w.message).join('\n'), /refused to list what it holds \(s3:ListBucket\)/);
  assert.equal(s.count('read'), 0, 'no manifest is read for a pass that does not adopt');
  assert.deepEqual(
    readJournal(s.journal, (db) => db.prepare('SELECT count(*) AS n FROM adoption_targets').get()),
    { n: 0 },
  );
});

test('an adopted object: edge retention deletes it only while the core copy is the adopted one; a deletion follows the same check', async (t) => {
  const s = setup(t, { retention: { deleteFromEdgeAfter: '1d' }, deletes: 'propagate' });
  const kept = s.source.put('edge', 'kept.json', '{"kept":1}\n');
  landedEarlier(s.lake, kept, '{"kept":1}\n');
  const changed = s.source.put('edge', 'changed.json', '{"changed":1}\n');
  landedEarlier(s.lake, changed, '{"changed":1}\n');
  const legacy = s.source.put('edge', 'legacy.json', '{"legacy":1}\n');
  landedEarlier(s.lake, legacy, '{"legacy":1}\n');
  manifestFile(s.lake, 'batch-1-00000001.ndjson', [
    lineOf(kept, '{"kept":1}\n'),
    lineOf(changed, '{"changed":1}\n'),
    lineOf(legacy, '{"legacy":1}\n'),
  ]);
  const agent = s.make();
  assert.equal((await agent.scan()).adopted, 3);
  // As a journal before migration 0015 adopted it: by the listing's MD5, without a SHA-256.
  const db = new Database(join(s.journal, 'journal.db'));
  db.prepare(`UPDATE objects SET sha256 = NULL, adopted_by = 'listing' WHERE key = 'legacy.json'`).run();
  db.close();
  // The core copies of changed.json and legacy.json are replaced behind the agent's back, same size.
  s.lake.objects.set('site-a/edge/changed.json', { data: Buffer.from('{"changed":2}\n'), metadata: {}, content: {} });
  s.lake.objects.set('site-a/edge/legacy.json', { data: Buffer.from('{"legacy":2}\n'), metadata: {}, content: {} });

  s.clock.advance(2 * DAY);
  const round = await agent.expireEdgeObjects();
  assert.deepEqual([round?.deleted, round?.held], [1, 2]);
  assert.equal(s.source.objects.has('edge/kept.json'), false);
  assert.equal(s.source.objects.has('edge/changed.json'), true, 'held: the core copy is not the adopted one');
  assert.equal(s.source.objects.has('edge/legacy.json'), true, 'held: the core copy does not show the adopted MD5');

  // deletes: propagate, for an adopted copy: deleted only while it is the adopted one.
  for (const key of ['changed.json', 'legacy.json']) {
    s.source.objects.delete(`edge/${key}`);
    assert.equal(agent.journal.requestDeletion('edge', key, 'event'), true);
  }
  const deletions = await agent.propagateDeletions();
  assert.deepEqual([deletions.deleted, deletions.skipped], [0, 2]);
  assert.ok(s.lake.objects.has('site-a/edge/changed.json'), 'a copy from elsewhere is never removed');
  assert.ok(s.lake.objects.has('site-a/edge/legacy.json'));
});

test('verify --repair adopts a version the journal lacks only by its lineage, Last-Modified included, and lists nothing twice', async (t) => {
  const s = setup(t);
  const old = new Date('2026-11-01T10:00:00Z');
  const ours = s.source.put('edge', 'ours.json', '{"ours":1}\n');
  landedEarlier(s.lake, ours, '{"ours":1}\n');
  const tool = s.source.put('edge', 'tool.json', '{"tool":1}\n');
  s.lake.objects.set('site-a/edge/tool.json', { data: Buffer.from('{"tool":1}\n'), metadata: {}, content: {} });
  const retypedBefore = s.source.put('edge', 'retyped.json', '{"r":1}\n', old);
  landedEarlier(s.lake, retypedBefore, '{"r":1}\n');
  const retyped = s.source.put('edge', 'retyped.json', '{"r":1}\n');
  const agent = s.make();
  const outcomes = [];
  for (const object of [ours, tool, retyped]) outcomes.push(await agent.repair({ kind: 'journal', object }));
  assert.deepEqual(outcomes, ['adopted', 'journaled', 'journaled']);
  const adopted = rowOf(s.journal, 'ours.json')!;
  assert.deepEqual([adopted.state, adopted.sha256, adopted.adopted_by], ['done', sha256('{"ours":1}\n'), 'head']);
  assert.ok(adopted.manifest_batch !== null, 'in a batch never written: a manifest may list it already');
  assert.ok(agent.journal.isCoreCopySuspect('site-a/edge/tool.json'), 'the copy there is not ours: not taken for ours');
  assert.ok(agent.journal.isCoreCopySuspect('site-a/edge/retyped.json'));
  await once(agent);
  assert.equal(s.lake.objects.get('site-a/edge/tool.json')?.metadata['tributary-source-key'], 'tool.json');
  assert.equal(s.lake.objects.get('site-a/edge/retyped.json')?.metadata['tributary-source-mtime'], retyped.mtime.toISOString());
  await agent.manifests.flush();
  assert.deepEqual(
    manifestLines(s.lake)
      .map((l) => [l['source_key'], l['relanding'], l['adopted'] ?? false])
      .sort(),
    [
      ['retyped.json', 'repair', false],
      ['tool.json', 'repair', false],
    ],
  );
});

test('the core prefix of a target, and the proofs', () => {
  const keys = { site: 'site-a', keyTemplate: '{site}/{bucket}/{key}' };
  assert.equal(coreKeyPrefix(keys, 'pos', 'receipts/'), 'site-a/pos/receipts/');
  assert.equal(coreKeyPrefix(keys, 'pos', ''), 'site-a/pos/');
  assert.equal(coreKeyPrefix({ site: 'site-a', keyTemplate: '{site}/dt={yyyy}-{mm}-{dd}/{bucket}/{key}' }, 'pos', 'r/'), 'site-a/dt=');
  assert.equal(coreKeyPrefix({ site: 'site-a', keyTemplate: '{site}/{bucket}/{yyyy}/{key}' }, 'pos', 'r/'), 'site-a/pos/');

  const emptyMd5 = 'd41d8cd98f00b204e9800998ecf8427e';
  assert.equal(listingProof({ etag: emptyMd5, size: 0 }, { etag: emptyMd5.toUpperCase(), size: 0 }, true), 'same');
  assert.equal(listingProof({ etag: emptyMd5, size: 0 }, { etag: emptyMd5, size: 1 }, true), 'differs');
  assert.equal(listingProof({ etag: emptyMd5, size: 0 }, { etag: 'f'.repeat(32), size: 0 }, true), 'differs');
  assert.equal(listingProof({ etag: emptyMd5, size: 0 }, { etag: emptyMd5, size: 0 }, false), 'ask', 'SSE-KMS at the core: opaque ETags');
  assert.equal(listingProof({ etag: MULTIPART_ETAG, size: 0 }, { etag: MULTIPART_ETAG, size: 0 }, true), 'ask');

  const mtime = new Date('2026-11-27T08:00:00.123Z');
  const object: SourceObject = { bucket: 'edge', key: 'a b/ü.bin', etag: md5('abc'), size: 3, mtime };
  const landing = {
    coreKey: 'site-a/edge/a b/ü.bin',
    sourceBucket: 'edge',
    sourceKey: 'a b/ü.bin',
    sourceEtag: md5('abc'),
    sourceMtimeMs: mtime.getTime(),
    size: 3,
    coreSize: 3,
    coreEtag: md5('abc'),
    sha256: sha256('abc'),
    landedAtMs: 0,
  };
  const listed = { etag: md5('abc'), size: 3 };
  assert.equal(manifestProof(landing, object, listed, true), true);
  assert.equal(manifestProof(landing, object, listed, false), true, 'SSE-KMS: the line’s core ETag against the listing’s');
  assert.equal(manifestProof({ ...landing, coreEtag: null }, object, { etag: MULTIPART_ETAG, size: 3 }, true), true, 'an old line');
  assert.equal(manifestProof(landing, object, { etag: MULTIPART_ETAG, size: 3 }, true), false, 'not the copy the line left');
  assert.equal(manifestProof(landing, { ...object, mtime: new Date(mtime.getTime() + 1) }, listed, true), false, 'another Last-Modified');
  assert.equal(manifestProof({ ...landing, sourceKey: 'a b/u.bin' }, object, listed, true), false);
  assert.equal(manifestProof({ ...landing, sourceBucket: 'other' }, object, listed, true), false);
  assert.equal(manifestProof({ ...landing, sourceEtag: 'f'.repeat(32) }, object, listed, true), false);
  assert.equal(manifestProof({ ...landing, coreSize: 4 }, object, listed, true), false);
  assert.equal(manifestProof({ ...landing, size: 4 }, object, listed, true), false);
  assert.equal(manifestProof({ ...landing, coreEtag: null }, object, { etag: 'f'.repeat(32), size: 3 }, true), false, 'other bytes');

  const metadata = lineageMetadata({
    site: 'site-a',
    bucket: 'edge',
    key: object.key,
    etag: object.etag,
    mtimeMs: mtime.getTime(),
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
  assert.equal(headProof(head, { ...object, mtime: new Date('2026-11-28T08:00:00Z') }, 'site-a'), undefined, 'another Last-Modified');
  const { 'tributary-source-mtime': _mtime, ...noMtime } = metadata;
  assert.equal(headProof({ ...head, metadata: noMtime }, object, 'site-a'), undefined, 'no Last-Modified in the lineage');
  assert.equal(headProof({ ...head, metadata: {} }, object, 'site-a'), undefined, 'no lineage: another tool’s copy');
  assert.equal(headProof(undefined, object, 'site-a'), undefined);
});
