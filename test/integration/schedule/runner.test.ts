/**
 * How the runner maps each class of failure to the journal: the columns a failure writes
 * (state, attempts, deferrals, next_attempt_at, last_error_code) are asserted directly.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { createHash } from 'node:crypto';

import { buildAgent, type Agent } from '../../../src/agent/build-agent.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { FakeClock, FakeLake, FakeSource, sdkError } from '../../helpers/fakes.js';
import { journalRows, readJournal } from '../../helpers/journal-db.js';
import { configForFakes } from '../../helpers/test-config.js';
import { tempDir } from '../../helpers/temp-dir.js';

function setup(t: Parameters<typeof tempDir>[0], transfer: Record<string, unknown> = {}, rules: unknown[] = []) {
  const dir = tempDir(t);
  const config = configForFakes(dir, {
    transfer: { concurrency: 1, retryBase: '10s', retryCap: '10m', maxAttempts: 3, ...transfer },
    rules,
  });
  const clock = new FakeClock();
  const source = new FakeSource();
  const lake = new FakeLake();
  const order: string[] = [];
  const agent = buildAgent(config, {
    logger: silentLogger,
    clock,
    source,
    lake,
    hooks: { onLanded: (job) => order.push(job.key) },
  });
  t.after(() => agent.close());
  return { dir, journal: join(dir, 'journal'), clock, source, lake, agent, order };
}

async function pass(agent: Agent, maxOutageMs = 0) {
  await agent.scan();
  return agent.runner.run({ mode: 'once', retryHorizonMs: 0, maxOutageMs, signal: new AbortController().signal });
}

test('transient: failed, one attempt used, next attempt after jittered backoff', async (t) => {
  const { source, lake, agent, clock, journal } = setup(t);
  source.put('edge', 'a.txt', 'alpha');
  lake.failNext('put', sdkError.internal);
  const summary = await pass(agent);
  assert.equal(summary.failed, 1);
  const [row] = journalRows(journal);
  assert.equal(row!.state, 'failed');
  assert.equal(row!.attempts, 1);
  assert.equal(row!.last_error_code, 'TRIB_ERR_CORE_SERVER');
  assert.ok(
    row!.next_attempt_at >= clock.now() + 5_000 && row!.next_attempt_at <= clock.now() + 15_000,
    String(row!.next_attempt_at - clock.now()),
  );

  clock.advance(20_000);
  await pass(agent);
  const [after] = journalRows(journal);
  assert.equal(after!.state, 'done');
  assert.equal(lake.objects.get('site-a/edge/a.txt')?.data.toString(), 'alpha');
});

test('throttled: Retry-After honoured and no attempt used', async (t) => {
  const { source, lake, agent, clock, journal } = setup(t);
  source.put('edge', 'a.txt', 'alpha');
  lake.failNext('put', () => sdkError.slowDown('120'));
  await pass(agent);
  const [row] = journalRows(journal);
  assert.equal(row!.state, 'queued');
  assert.equal(row!.attempts, 0);
  assert.equal(row!.deferrals, 1);
  assert.equal(row!.last_error_code, 'TRIB_ERR_CORE_THROTTLED');
  assert.ok(row!.next_attempt_at >= clock.now() + 120_000);
});

test('permanent: dead at once with the reason', async (t) => {
  const { source, lake, agent, journal } = setup(t);
  source.put('edge', 'a.txt', 'alpha');
  lake.failNext('put', sdkError.accessDenied);
  const summary = await pass(agent);
  assert.equal(summary.dead, 1);
  const [row] = journalRows(journal);
  assert.equal(row!.state, 'dead');
  assert.equal(row!.last_error_code, 'TRIB_ERR_CORE_ACCESS_DENIED');
  assert.match(row!.last_error!, /access denied/);
});

test('attempts exhausted: dead after transfer.maxAttempts, and retry re-queues it', async (t) => {
  const { source, lake, agent, clock, journal } = setup(t);
  source.put('edge', 'a.txt', 'alpha');
  lake.failNext('put', sdkError.internal, 3);
  for (let i = 0; i < 3; i += 1) {
    await pass(agent);
    clock.advance(60 * 60_000);
  }
  const [row] = journalRows(journal);
  assert.equal(row!.state, 'dead');
  assert.equal(row!.attempts, 3);
  assert.match(row!.last_error!, /^gave up after 3 attempts/);

  assert.equal(agent.journal.retryDead(), 1);
  const [requeued] = journalRows(journal);
  assert.equal(requeued!.state, 'queued');
  assert.equal(requeued!.attempts, 0);
  await pass(agent);
  assert.equal(journalRows(journal)[0]!.state, 'done');
});

test('core unreachable: no attempt is used, the circuit opens, and the backlog lands once it is back', async (t) => {
  const { source, lake, agent, journal, clock } = setup(t);
  for (let i = 0; i < 6; i += 1) source.put('edge', `o${i}.txt`, `object ${i}`);
  lake.failNext('put', sdkError.network, 3);
  const summary = await pass(agent, 0);
  assert.equal(summary.stoppedBy, 'outage');
  assert.ok(agent.breaker.isOpen);
  const rows = journalRows(journal);
  assert.deepEqual(
    rows.map((r) => [r.key, r.state, r.attempts]),
    Array.from({ length: 6 }, (_, i) => [`o${i}.txt`, 'queued', 0]),
  );
  assert.equal(rows.filter((r) => r.last_error_code === 'TRIB_ERR_CORE_UNREACHABLE').length, 3);
  // A link failure is paced by the breaker, not by the object's own backoff (retryBase 10s here):
  // once the link is back, the objects are runnable within seconds.
  for (const row of rows) assert.ok(row.next_attempt_at <= clock.now() + 6_000, `next attempt in ${row.next_attempt_at - clock.now()} ms`);

  // The core is back: the next pass probes once, closes the circuit and drains the backlog.
  clock.advance(6_000);
  const probesBefore = lake.calls.filter((c) => c === 'probe').length;
  const drained = await agent.runner.run({ mode: 'once', retryHorizonMs: 0, maxOutageMs: 60_000, signal: new AbortController().signal });
  assert.equal(drained.stoppedBy, 'idle');
  assert.equal(lake.calls.filter((c) => c === 'probe').length - probesBefore, 1, 'one probe, not a storm');
  assert.ok(!agent.breaker.isOpen);
  assert.deepEqual(
    journalRows(journal).map((r) => [r.key, r.state, r.attempts]),
    Array.from({ length: 6 }, (_, i) => [`o${i}.txt`, 'done', 0]),
  );
});

test('an object deleted at the edge before its transfer is vanished: when, and why; not dead, not pending, no attempt used', async (t) => {
  const { source, agent, journal, clock } = setup(t);
  source.put('edge', 'a.txt', 'alpha');
  source.put('edge', 'b.txt', 'bravo');
  await agent.scan();
  const seenAt = clock.now();
  clock.advance(5_000);
  source.objects.delete('edge/a.txt');
  const summary = await agent.runner.run({ mode: 'once', retryHorizonMs: 0, signal: new AbortController().signal });
  assert.deepEqual([summary.landed, summary.failed, summary.dead, summary.vanished], [1, 0, 0, 1]);
  const rows = readJournal(journal, (db) =>
    db.prepare('SELECT key, state, attempts, last_error_code, last_error, first_seen_at, vanished_at FROM objects ORDER BY id').all(),
  ) as {
    key: string;
    state: string;
    attempts: number;
    last_error_code: string;
    last_error: string;
    first_seen_at: number;
    vanished_at: number;
  }[];
  assert.deepEqual(
    rows.map((r) => [r.key, r.state, r.attempts, r.last_error_code, r.first_seen_at, r.vanished_at]),
    [
      ['a.txt', 'vanished', 0, 'TRIB_ERR_SOURCE_GONE', seenAt, seenAt + 5_000],
      ['b.txt', 'done', 0, null, seenAt, null],
    ],
  );
  assert.match(
    rows[0]!.last_error,
    /^edge edge\/a\.txt: deleted at the edge before it could be read \(.*no longer exists.*; the edge no longer lists the key\)$/,
  );
  assert.deepEqual(agent.journal.settledCounts().vanished, { objects: 1, bytes: 5 });
  assert.deepEqual(
    agent.journal.backlog().map((r) => r.state),
    [],
    'neither pending, failed nor dead',
  );
  // Never retried: neither by the runner nor by `retry`.
  assert.equal(agent.journal.retryDead(), 0);
  assert.equal(agent.journal.nextAttemptAt(), undefined);
});

test('a 404 for an object the edge still lists is an ordinary transient failure that says so', async (t) => {
  const { source, agent, journal } = setup(t);
  source.put('edge', 'a.txt', 'alpha');
  await agent.scan();
  source.failNext('read', sdkError.noSuchKey);
  const summary = await agent.runner.run({ mode: 'once', retryHorizonMs: 0, signal: new AbortController().signal });
  assert.deepEqual([summary.failed, summary.vanished], [1, 0]);
  const [row] = journalRows(journal);
  assert.deepEqual([row!.state, row!.attempts, row!.last_error_code], ['failed', 1, 'TRIB_ERR_SOURCE_GONE']);
  assert.match(row!.last_error!, /no longer exists at the edge; yet the edge still lists this version: tried again$/);
});

test('an object deleted and written again before its GET: the new version is queued, the old one superseded, not vanished', async (t) => {
  const { source, agent, journal } = setup(t);
  source.put('edge', 'a.txt', 'v1');
  await agent.scan();
  source.failNext('read', () => {
    source.put('edge', 'a.txt', 'v2, written after a deletion', new Date('2026-11-27T09:00:00Z'));
    return sdkError.noSuchKey();
  });
  await agent.runner.run({ mode: 'once', retryHorizonMs: 0, signal: new AbortController().signal });
  assert.deepEqual(
    journalRows(journal).map((r) => [r.state, r.size]),
    [
      ['superseded', 2],
      ['done', 28],
    ],
  );
});

test('a vanished version that a scan lists again is queued again and lands', async (t) => {
  const { source, agent, journal } = setup(t);
  source.put('edge', 'a.txt', 'alpha');
  await agent.scan();
  const kept = source.objects.get('edge/a.txt')!;
  source.objects.delete('edge/a.txt');
  await agent.runner.run({ mode: 'once', retryHorizonMs: 0, signal: new AbortController().signal });
  assert.equal(journalRows(journal)[0]!.state, 'vanished');
  // The edge lists that very version again (a listing that lagged behind, a restored object).
  source.objects.set('edge/a.txt', kept);
  assert.equal((await agent.scan()).changed, 1);
  await agent.runner.run({ mode: 'once', retryHorizonMs: 0, signal: new AbortController().signal });
  const rows = readJournal(journal, (db) => db.prepare('SELECT state, vanished_at FROM objects').all());
  assert.deepEqual(rows, [{ state: 'done', vanished_at: null }]);
});

test('a version overwritten while in flight, whose successor a scan journaled meanwhile, is superseded, not retried until dead', async (t) => {
  const { source, agent, journal } = setup(t);
  source.put('edge', 'a.txt', 'v1');
  await agent.scan();
  // While v1 is being read the key is overwritten and a scan journals v2 (v1 is transferring, so
  // that scan does not supersede it); the edge then refuses the GET of v1 (If-Match).
  source.failNext('read', () => {
    const v2 = source.put('edge', 'a.txt', 'v2', new Date('2026-11-27T09:00:00Z'));
    agent.journal.recordSeen([v2], () => ({ priority: 2, excluded: false }), 'scan');
    return Object.assign(new Error('x'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
  });
  const summary = await agent.runner.run({ mode: 'once', retryHorizonMs: 0, signal: new AbortController().signal });
  assert.equal(summary.failed, 0);
  const rows = journalRows(journal);
  assert.deepEqual(
    rows.map((r) => [r.state, r.last_error_code]),
    [
      ['superseded', 'TRIB_ERR_SOURCE_CHANGED'],
      ['done', null],
    ],
  );
});

test('credentials refused while running: an endpoint outage with reason auth, no attempt used, nothing lost', async (t) => {
  const { source, lake, agent, journal } = setup(t);
  for (const key of ['a.txt', 'b.txt', 'c.txt']) source.put('edge', key, key);
  lake.failNext('put', sdkError.badSignature, 10);
  const summary = await pass(agent);
  assert.equal(summary.stoppedBy, 'outage', 'the breaker opened; no fatal stop');
  assert.equal(summary.fatal, undefined);
  assert.equal(agent.breaker.side, 'core');
  assert.deepEqual(
    { reachable: agent.health.state('core').reachable, reason: agent.health.state('core').reason },
    { reachable: false, reason: 'auth' },
  );
  assert.ok(agent.health.isReachable('edge'));
  assert.deepEqual(
    journalRows(journal).map((r) => [r.key, r.state, r.attempts, r.last_error_code]),
    [
      ['a.txt', 'queued', 0, 'TRIB_ERR_CORE_AUTH'],
      ['b.txt', 'queued', 0, 'TRIB_ERR_CORE_AUTH'],
      ['c.txt', 'queued', 0, 'TRIB_ERR_CORE_AUTH'],
    ],
  );
  assert.equal(lake.objects.size, 0, 'nothing landed');
});

test("5xx answers of an endpoint the health record holds for down are the outage's: no attempt used", async (t) => {
  const { source, agent, journal } = setup(t);
  source.put('edge', 'a.txt', 'alpha');
  await agent.scan(); // heard from the edge: reachable
  // Then its probes fail with 5xx (a proxy in front of it, say), and so does the transfer.
  agent.health.recordFailure('edge', 'http-5xx', 'edge LIST edge/: InternalError (HTTP 500)');
  agent.health.recordFailure('edge', 'http-5xx', 'edge LIST edge/: InternalError (HTTP 500)');
  source.failNext('read', sdkError.internal, 10);
  const summary = await agent.runner.run({ mode: 'once', retryHorizonMs: 0, maxOutageMs: 0, signal: new AbortController().signal });
  assert.equal(summary.failed, 0);
  const [row] = journalRows(journal);
  assert.deepEqual([row!.state, row!.attempts, row!.last_error_code], ['queued', 0, 'TRIB_ERR_EDGE_SERVER']);
});

test('a retried object whose identical copy is already in the core is not uploaded again', async (t) => {
  const { source, lake, agent, clock, journal } = setup(t);
  const body = 'already there';
  source.put('edge', 'a.txt', body);
  lake.failNext('put', sdkError.internal);
  await pass(agent);
  // The core got it after all (a lost answer): it holds our bytes and SHA-256.
  const sha = createHash('sha256').update(body).digest('hex');
  lake.objects.set('site-a/edge/a.txt', { data: Buffer.from(body), metadata: { 'tributary-sha256': sha }, content: {} });
  const putsBefore = lake.calls.filter((c) => c === 'put').length;
  clock.advance(60_000);
  await pass(agent);
  assert.equal(lake.calls.filter((c) => c === 'put').length, putsBefore, 'no second PUT');
  const [row] = journalRows(journal);
  assert.equal(row!.state, 'done');
  assert.equal(row!.sha256, sha);
});

test('priority classes: critical before normal before bulk', async (t) => {
  const { source, agent, order } = setup(t, {}, [
    { match: { prefix: 'receipts/' }, priority: 'critical' },
    { match: { prefix: 'video/' }, priority: 'bulk' },
    { match: { prefix: 'tmp/' }, exclude: true },
  ]);
  source.put('edge', 'video/v.bin', 'v');
  source.put('edge', 'logs/l.txt', 'l');
  source.put('edge', 'receipts/r.json', 'r');
  source.put('edge', 'tmp/t.txt', 't');
  await pass(agent);
  assert.deepEqual(order, ['receipts/r.json', 'logs/l.txt', 'video/v.bin']);
  assert.equal(agent.journal.latest('edge', 'tmp/t.txt')?.state, 'skipped');
});

test('a multipart upload resumes from the journal: finished parts are not uploaded again', async (t) => {
  const { source, lake, agent, clock, journal } = setup(t, { partSize: '5MiB', multipartThreshold: '5MiB' });
  const body = Buffer.alloc(16 * 1024 * 1024 + 3, 7);
  for (let i = 0; i < body.length; i += 4096) body[i] = i % 251;
  source.put('edge', 'big.bin', body);
  lake.failNext('uploadPart', sdkError.internal, 1);
  // Part 1 may run in parallel with the failing one: count the parts that went through.
  await pass(agent);
  const partsBefore = lake.calls.filter((c) => c === 'uploadPart').length;
  const journaled = journalRows(journal)[0]!;
  assert.equal(journaled.state, 'failed');
  const done = agent.journal.multipart(journaled.id)!.parts.size;
  assert.ok(done >= 1 && done < 4, `parts journaled: ${done}`);
  clock.advance(60_000);
  await pass(agent);
  const partsAfter = lake.calls.filter((c) => c === 'uploadPart').length - partsBefore;
  assert.equal(partsAfter, 4 - done, 'only the unfinished parts were sent');
  assert.deepEqual(lake.objects.get('site-a/edge/big.bin')?.data, body);
  assert.equal(lake.calls.filter((c) => c === 'create').length, 1);
});

test('an upload the core no longer knows when it is completed starts over on the next attempt', async (t) => {
  const { source, lake, agent, clock, journal } = setup(t, { partSize: '5MiB', multipartThreshold: '5MiB' });
  const body = Buffer.alloc(11 * 1024 * 1024, 9);
  source.put('edge', 'big.bin', body);
  lake.failNext('complete', () => Object.assign(new Error('x'), { name: 'NoSuchUpload', $metadata: { httpStatusCode: 404 } }));
  await pass(agent);
  const [row] = journalRows(journal);
  assert.equal(row!.state, 'failed');
  assert.equal(row!.last_error_code, 'TRIB_ERR_CORE_UPLOAD_LOST');
  assert.equal(agent.journal.multipart(row!.id), undefined, 'the lost upload is forgotten');
  clock.advance(60_000);
  await pass(agent);
  assert.equal(journalRows(journal)[0]!.state, 'done');
  assert.deepEqual(lake.objects.get('site-a/edge/big.bin')?.data, body);
  assert.equal(lake.calls.filter((c) => c === 'create').length, 2);
});

test('after a crash between landing and journaling, the object is found in the core and not uploaded again', async (t) => {
  const { source, lake, agent, journal } = setup(t);
  const body = 'landed just before the crash';
  source.put('edge', 'a.txt', body);
  await agent.scan();
  const [claimed] = agent.journal.claim(1); // the crashed run had claimed it ...
  const sha = createHash('sha256').update(body).digest('hex');
  lake.objects.set('site-a/edge/a.txt', { data: Buffer.from(body), metadata: { 'tributary-sha256': sha }, content: {} }); // ... and uploaded it
  assert.equal(claimed!.state, 'transferring');
  assert.equal(agent.journal.recoverInFlight(), 1); // what a restart does first
  await agent.runner.run({ mode: 'once', retryHorizonMs: 0, signal: new AbortController().signal });
  assert.equal(lake.calls.filter((c) => c === 'put').length, 0, 'not uploaded again');
  assert.ok(lake.calls.includes('head'));
  const [row] = journalRows(journal);
  assert.equal(row!.state, 'done');
  assert.equal(row!.attempts, 0);
});

test('manifests: every landed object is listed once, and a batch planned before a crash is written after it', async (t) => {
  const { source, lake, agent } = setup(t);
  for (let i = 0; i < 5; i += 1) source.put('edge', `m/${i}.json`, `{"i":${i}}`);
  await pass(agent);
  // A crash after planning a batch and before writing it: the plan is in the journal.
  const planned = agent.journal.planManifestBatch(3);
  assert.ok(planned !== undefined);
  assert.deepEqual(
    agent.journal.unwrittenManifestBatches().map((b) => b.id),
    [planned],
  );
  assert.equal(await agent.manifests.flush(), 5, 'the planned batch of 3, then a new one of 2');
  assert.deepEqual(agent.journal.unwrittenManifestBatches(), []);
  const files = [...lake.objects.keys()].filter((k) => k.startsWith('_tributary/manifests/'));
  assert.equal(files.length, 2);
  const lines = files.flatMap((k) =>
    lake.objects
      .get(k)!
      .data.toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>),
  );
  assert.deepEqual(lines.map((l) => l['source_key']).sort(), ['m/0.json', 'm/1.json', 'm/2.json', 'm/3.json', 'm/4.json']);
  assert.ok(
    files.every((k) => /^_tributary\/manifests\/site=site-a\/dt=\d{4}-\d{2}-\d{2}\/batch-\d+-\d{8}\.ndjson$/.test(k)),
    files.join(),
  );
  const line = lines[0]!;
  for (const field of [
    'site',
    'source_bucket',
    'source_etag',
    'source_mtime',
    'core_key',
    'size',
    'sha256',
    'first_seen_at',
    'landed_at',
    'lag_seconds',
  ]) {
    assert.ok(field in line, field);
  }
  assert.equal(await agent.manifests.flush(), 0, 'nothing new: nothing written');
  assert.equal([...lake.objects.keys()].filter((k) => k.startsWith('_tributary/manifests/')).length, 2);
});
