import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { runCli } from '../helpers/cli.js';
import { journalRows } from '../helpers/journal-db.js';
import { getObject, headObject, listKeys, putObject, startTestS3 } from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';
import { writeTestConfig } from '../helpers/test-config.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

test('sync --once lands every object byte-for-byte with lineage, and a second pass costs no GET or PUT of objects', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['telemetry', 'pos']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const objects = new Map<string, Buffer>();
  for (let i = 0; i < 40; i += 1) objects.set(`telemetry/line-1/s${i}.jsonl`, Buffer.from(`{"i":${i}}\n`.repeat(i + 1)));
  objects.set('telemetry/empty.jsonl', Buffer.alloc(0));
  objects.set('telemetry/big.bin', randomBytes(12 * 1024 * 1024 + 17));
  objects.set('pos/receipts/r1.json', Buffer.from('{"total":12.5}'));
  objects.set('pos/other/skip-me.json', Buffer.from('{}'));
  for (const [path, body] of objects) {
    const [bucket, ...rest] = path.split('/');
    await putObject(edge, bucket!, rest.join('/'), body);
  }
  const config = writeTestConfig(dir, edge, core, {
    buckets: ['telemetry', { name: 'pos', prefix: 'receipts/' }],
    extra: { transfer: { partSize: '5MiB', multipartThreshold: '5MiB' } },
  });

  const first = await runCli(['sync', '--once', '-c', config]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /landed 43 /);

  const landed = await listKeys(core, 'lake', 'site-a/');
  assert.equal(landed.length, 43);

  // Manifests: one line per landed object, under site=/dt= partitions, readable as NDJSON.
  const manifestKeys = await listKeys(core, 'lake', '_tributary/manifests/');
  assert.ok(
    manifestKeys.length >= 1 &&
      manifestKeys.every((k) => /^_tributary\/manifests\/site=site-a\/dt=\d{4}-\d{2}-\d{2}\/batch-\d+-\d{8}\.ndjson$/.test(k)),
    manifestKeys.join(),
  );
  const manifestLines: { source_bucket: string; source_key: string; core_key: string; sha256: string; size: number }[] = [];
  for (const key of manifestKeys) {
    for (const line of (await getObject(core, 'lake', key)).toString().trim().split('\n'))
      manifestLines.push(JSON.parse(line) as (typeof manifestLines)[number]);
  }
  assert.equal(manifestLines.length, 43);
  for (const line of manifestLines) {
    const body = objects.get(`${line.source_bucket}/${line.source_key}`)!;
    assert.equal(line.sha256, sha256(body));
    assert.equal(line.size, body.length);
    assert.equal(line.core_key, `site-a/${line.source_bucket}/${line.source_key}`);
  }
  for (const [path, body] of objects) {
    const [bucket, ...rest] = path.split('/');
    const key = rest.join('/');
    if (key.startsWith('other/')) {
      assert.ok(!landed.includes(`site-a/${path}`), 'objects outside the configured prefix stay at the edge');
      continue;
    }
    const coreKey = `site-a/${bucket}/${key}`;
    assert.deepEqual(await getObject(core, 'lake', coreKey), body, coreKey);
    const head = await headObject(core, 'lake', coreKey);
    assert.equal(head.Metadata?.['tributary-sha256'], sha256(body));
    assert.equal(head.Metadata?.['tributary-site'], 'site-a');
    assert.equal(head.Metadata?.['tributary-source-bucket'], bucket);
    assert.equal(decodeURIComponent(head.Metadata?.['tributary-source-key'] ?? ''), key);
    // The edge's ETag of a single PUT is the MD5 of the body; its Last-Modified what it lists.
    const source = await headObject(edge, bucket!, key);
    assert.equal(head.Metadata?.['tributary-source-etag'], createHash('md5').update(body).digest('hex'));
    assert.equal(Date.parse(head.Metadata?.['tributary-source-mtime'] ?? ''), source.LastModified!.getTime(), coreKey);
  }
  const rows = journalRows(join(dir, 'journal'));
  assert.equal(rows.length, 43);
  assert.ok(rows.every((r) => r.state === 'done' && r.sha256 !== null && r.core_key !== null));

  // The big object went multipart: 3 parts of 5 MiB, confirmed by HEAD after completion.
  const coreRequests = core.requests();
  assert.equal(coreRequests.filter((r) => r.method === 'PUT' && r.url.includes('partNumber=')).length, 3);

  const edgeBefore = edge.requests().length;
  const coreBefore = core.requests().length;
  const second = await runCli(['sync', '--once', '-c', config]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /landed 0 /);
  const edgeAfter = edge.requests().slice(edgeBefore);
  const coreAfter = core.requests().slice(coreBefore);
  assert.deepEqual(
    edgeAfter.filter((r) => r.method === 'GET' && !r.url.includes('list-type')),
    [],
    'unchanged objects are not read again',
  );
  // Only the run's heartbeat (one small PUT, for the fleet view): no object, no manifest again.
  assert.deepEqual(
    coreAfter.filter((r) => r.method === 'PUT' || r.method === 'POST').map((r) => r.url),
    ['/lake/_tributary/sites/site-a/heartbeat.json'],
    'nothing but the heartbeat is written again (no object, no manifest)',
  );

  const verify = await runCli(['verify', '-c', config]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.match(verify.stdout, /43 objects checked, 0 missing/);
  const deep = await runCli(['verify', '--deep', '-c', config]);
  assert.equal(deep.code, 0, deep.stdout + deep.stderr);
});

test('verify exits 1 and names each object that is missing or different in the core', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  await putObject(edge, 'edge', 'a.txt', 'alpha');
  await putObject(edge, 'edge', 'b.txt', 'bravo');
  const config = writeTestConfig(dir, edge, core);
  assert.equal((await runCli(['sync', '--once', '-c', config])).code, 0);

  await putObject(core, 'lake', 'site-a/edge/a.txt', 'tampered!');
  await putObject(edge, 'edge', 'c.txt', 'charlie');
  const result = await runCli(['verify', '-c', config]);
  assert.equal(result.code, 1);
  assert.match(result.stdout, /different\s+edge\/a\.txt/);
  assert.match(
    result.stdout,
    /missing\s+edge\/c\.txt: not in the journal \(the next scan queues it\); no core object site-a\/edge\/c\.txt/,
  );
  assert.doesNotMatch(result.stdout, /edge\/b\.txt/);
});

test('verify with a journal restored from a backup tells objects the core already holds from those it lacks', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const config = writeTestConfig(dir, edge, core);
  assert.equal((await runCli(['sync', '--once', '-c', config])).code, 0, 'an empty edge: a journal with no object');
  cpSync(join(dir, 'journal'), join(dir, 'journal-backup'), { recursive: true });
  await putObject(edge, 'edge', 'a.txt', 'alpha');
  assert.equal((await runCli(['sync', '--once', '-c', config])).code, 0);
  // The journal is restored from a backup older than a's landing; the lake still holds a.
  rmSync(join(dir, 'journal'), { recursive: true });
  cpSync(join(dir, 'journal-backup'), join(dir, 'journal'), { recursive: true });
  await putObject(edge, 'edge', 'b.txt', 'bravo');
  await putObject(core, 'lake', 'site-a/edge/c.txt', 'not from the edge');
  await putObject(edge, 'edge', 'c.txt', 'charlie');
  const result = await runCli(['verify', '-c', config]);
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.match(
    result.stdout,
    /pending\s+edge\/a\.txt: not in the journal \(the next scan queues it\); the core already holds site-a\/edge\/a\.txt with this version's lineage/,
  );
  assert.match(
    result.stdout,
    /missing\s+edge\/b\.txt: not in the journal \(the next scan queues it\); no core object site-a\/edge\/b\.txt/,
  );
  assert.match(
    result.stdout,
    /missing\s+edge\/c\.txt: .*core object site-a\/edge\/c\.txt holds other content \(source ETag none, 17 bytes\)/,
  );
  // The next pass journals all three and lands b and c; verify is clean again.
  assert.equal((await runCli(['sync', '--once', '-c', config])).code, 0);
  assert.equal((await runCli(['verify', '-c', config])).code, 0);
});

test('an object changed at the edge after it landed replicates its new version', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  await putObject(edge, 'edge', 'doc.json', '{"v":1}');
  const config = writeTestConfig(dir, edge, core);
  assert.equal((await runCli(['sync', '--once', '-c', config])).code, 0);
  await putObject(edge, 'edge', 'doc.json', '{"v":2,"longer":true}');
  const second = await runCli(['sync', '--once', '-c', config]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal((await getObject(core, 'lake', 'site-a/edge/doc.json')).toString(), '{"v":2,"longer":true}');
  const rows = journalRows(join(dir, 'journal'));
  assert.deepEqual(
    rows.map((r) => r.state),
    ['done', 'done'],
  );
});

test('retry re-queues dead objects (all, or by error code) and the next pass lands them', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  await putObject(edge, 'edge', 'a.txt', 'alpha');
  await putObject(edge, 'edge', 'b.txt', 'bravo');
  const config = writeTestConfig(dir, edge, core);
  const journal = join(dir, 'journal');
  assert.equal((await runCli(['sync', '--once', '-c', config])).code, 0);

  // Two objects that died of different causes, as an operator would find them.
  await putObject(edge, 'edge', 'a.txt', 'alpha v2');
  await putObject(edge, 'edge', 'b.txt', 'bravo v2');
  assert.equal((await runCli(['sync', '--once', '-c', config])).code, 0);
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(join(journal, 'journal.db'));
  db.prepare(
    `UPDATE objects SET state = 'dead', attempts = 10, last_error_code = 'TRIB_ERR_CORE_ACCESS_DENIED', last_error = 'denied' WHERE key = 'a.txt' AND id = (SELECT max(id) FROM objects WHERE key = 'a.txt')`,
  ).run();
  // a.txt also left a wrong copy in the core that its DELETE could not remove.
  db.prepare(
    `INSERT INTO suspect_core_copies (core_key, bucket, key, object_id, marked_at, delete_failed)
     SELECT 'site-a/edge/a.txt', bucket, key, id, 0, 1 FROM objects WHERE key = 'a.txt' AND id = (SELECT max(id) FROM objects WHERE key = 'a.txt')`,
  ).run();
  db.prepare(
    `UPDATE objects SET state = 'dead', attempts = 10, last_error_code = 'TRIB_ERR_CORE_SERVER', last_error = 'boom' WHERE key = 'b.txt' AND id = (SELECT max(id) FROM objects WHERE key = 'b.txt')`,
  ).run();
  db.close();
  const blocked = await runCli(['sync', '--once', '-c', config]);
  assert.equal(blocked.code, 1, 'dead objects make the pass incomplete');
  assert.match(blocked.stdout, /dead 2/);
  const status = await runCli(['status', '-c', config]);
  assert.match(
    status.stdout,
    /core keys that may hold a wrong copy of ours \(its DELETE failed\): 1 .*\n {2}dead {7}edge\/a\.txt -> site-a\/edge\/a\.txt/,
  );

  const unknown = await runCli(['retry', '--code', 'TRIB_ERR_NOPE', '-c', config]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--code TRIB_ERR_NOPE: not an error code/);
  const some = await runCli(['retry', '--code', 'trib_err_core_server', '-c', config]);
  assert.equal(some.code, 0);
  assert.match(some.stdout, /re-queued 1 dead object with TRIB_ERR_CORE_SERVER/);
  const all = await runCli(['retry', '-c', config]);
  assert.match(all.stdout, /re-queued 1 dead object\b/);
  const rows = journalRows(journal).filter((r) => r.state !== 'done');
  assert.deepEqual(
    rows.map((r) => [r.key, r.state, r.attempts]),
    [
      ['a.txt', 'queued', 0],
      ['b.txt', 'queued', 0],
    ],
  );
  const pass = await runCli(['sync', '--once', '-c', config]);
  assert.equal(pass.code, 0, pass.stderr);
  assert.equal((await getObject(core, 'lake', 'site-a/edge/a.txt')).toString(), 'alpha v2');
  assert.doesNotMatch((await runCli(['status', '-c', config])).stdout, /wrong copy/, 'landing clears the mark');
});

test('status, retry and verify on a journal folder that holds no journal say so (exit 2) instead of reporting an empty backlog', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const config = writeTestConfig(dir, edge, core, { extra: { journal: join(dir, 'no', 'such', 'journal') } });
  for (const verb of ['status', 'retry', 'verify']) {
    const result = await runCli([verb, '-c', config]);
    assert.equal(result.code, 2, `${verb}: ${result.stdout}${result.stderr}`);
    assert.match(result.stderr, /no journal at .*journal\.db: no agent or sync --once has run/, verb);
  }
  assert.equal(existsSync(join(dir, 'no')), false, 'nothing was created');
});

test('status and retry run in a shell without the S3 secrets; sync --once does not', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  await putObject(edge, 'edge', 'a.txt', 'alpha');
  const config = writeTestConfig(dir, edge, core, {
    edgeCredentials: { accessKeyId: '${EK}', secretAccessKey: '${ES}' },
    coreCredentials: { accessKeyId: '${CK}', secretAccessKey: '${CS}' },
  });
  const secrets = { EK: edge.accessKeyId, ES: edge.secretAccessKey, CK: core.accessKeyId, CS: core.secretAccessKey };
  const sync = await runCli(['sync', '--once', '-c', config], { env: { ...process.env, ...secrets } });
  assert.equal(sync.code, 0, sync.stderr);
  const status = await runCli(['status', '-c', config]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /backlog: 0 objects/);
  assert.match(status.stdout, /^landed in the last 5m: 1 object \(5 B, 0 B\/s\); lag p50 \d+ms, p99 \d+ms, max \d+ms$/m);
  assert.match(status.stdout, /^landed in the last 1h: 1 object /m);
  const json = JSON.parse((await runCli(['status', '--json', '-c', config])).stdout) as {
    landed: { windowSeconds: number; objects: number; bytes: number }[];
  };
  assert.deepEqual(
    json.landed.map((w) => [w.windowSeconds, w.objects, w.bytes]),
    [
      [300, 1, 5],
      [3600, 1, 5],
    ],
  );
  assert.equal((await runCli(['retry', '-c', config])).code, 0);
  const without = await runCli(['sync', '--once', '-c', config]);
  assert.equal(without.code, 2);
  assert.match(without.stderr, /edge\.credentials\.accessKeyId: environment variable EK is not set/);
});
