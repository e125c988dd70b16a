/**
 * `tributary forget` (issue 12, point 4): an object the core refuses (403 AccessDenied) goes dead
 * and the fleet says the site is failing; `forget --reason` makes it forgotten, with the reason in
 * the journal and in `status`; the next run exits 0 and the fleet says healthy again, without
 * deleting the journal. `forget` needs a reason, and is refused beside a running agent.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { stringify } from 'yaml';

import { killIfRunning, runCli, spawnCli, waitForLog } from '../helpers/cli.js';
import { readJournal } from '../helpers/journal-db.js';
import { listKeys, putObject, startTestS3 } from '../helpers/local-s3.js';
import { startRewritingProxy, type Rewrite } from '../helpers/rewriting-proxy.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testConfigDocument } from '../helpers/test-config.js';

/** A 403 for the request, which never reaches the server (so nothing is stored behind the refusal). */
const accessDenied = (): Rewrite => ({
  request: (request) => ({ ...request, method: 'GET', url: '/no-such-bucket-here', body: Buffer.alloc(0) }),
  answer: (answer) => ({
    ...answer,
    status: 403,
    headers: { 'content-type': 'application/xml' },
    body: Buffer.from('<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'),
  }),
});

const REASON = 'a leftover test file: nobody needs it in the lake';

test('forget: a dead object is acknowledged with a reason; the site is healthy again; forget needs a reason and the journal', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  await putObject(edge, 'edge', 'fine.json', '{"fine":true}');
  await putObject(edge, 'edge', 'denied.json', '{"denied":true}');
  const puts: string[] = [];
  const proxy = await startRewritingProxy(core.port, (request) => {
    if (request.method !== 'PUT') return undefined;
    puts.push(request.url.split('?')[0] ?? '');
    return request.url.startsWith('/lake/site-a/edge/denied.json') ? accessDenied() : undefined;
  });
  t.after(() => proxy.close());
  const doc = testConfigDocument(dir, edge, core, { extra: { scan: { interval: '1h' } } });
  (doc['core'] as Record<string, unknown>)['endpoint'] = proxy.endpoint;
  const config = join(dir, 'tributary.yaml');
  writeFileSync(config, stringify(doc));
  const coreOnly = join(dir, 'core.yaml');
  writeFileSync(coreOnly, stringify({ core: { ...(doc['core'] as Record<string, unknown>), endpoint: core.endpoint } }));
  const journal = join(dir, 'journal');

  const first = await runCli(['sync', '--once', '-c', config]);
  assert.equal(first.code, 1, first.stdout + first.stderr);
  assert.match(first.stdout, /pending 0, failed 0, dead 1/);
  assert.deepEqual(await listKeys(core, 'lake', 'site-a/'), ['site-a/edge/fine.json']);
  const failing = await runCli(['fleet', '-c', coreOnly]);
  assert.equal(failing.code, 1, failing.stdout + failing.stderr);
  assert.match(failing.stdout, /^site-a\s+failing\b.*1 dead objects/m);

  // A reason is required; so are a known code and a BUCKET/KEY.
  const noReason = await runCli(['forget', '-c', config]);
  assert.equal(noReason.code, 2, noReason.stdout + noReason.stderr);
  assert.match(noReason.stderr, /required option '--reason <text>' not specified/);
  const blank = await runCli(['forget', '--reason', '  ', '-c', config]);
  assert.equal(blank.code, 2);
  assert.match(blank.stderr, /--reason: say why these objects will never land/);
  const badCode = await runCli(['forget', '--reason', REASON, '--code', 'TRIB_ERR_NOPE', '-c', config]);
  assert.equal(badCode.code, 2);
  assert.match(badCode.stderr, /--code TRIB_ERR_NOPE: not an error code/);
  const badKey = await runCli(['forget', '--reason', REASON, '--key', 'denied.json', '-c', config]);
  assert.equal(badKey.code, 2);
  assert.match(badKey.stderr, /--key denied\.json: expected BUCKET\/KEY/);

  // Beside a running agent: refused, naming it; nothing forgotten.
  const agent = spawnCli(['agent', '-c', config, '--log-level', 'info']);
  t.after(() => killIfRunning(agent));
  await waitForLog(agent, 'scan complete');
  const locked = await runCli(['forget', '--reason', REASON, '-c', config]);
  assert.equal(locked.code, 2, locked.stdout + locked.stderr);
  assert.match(locked.stderr, new RegExp(`TRIB_ERR_JOURNAL_LOCKED: .* is in use by pid ${agent.child.pid} \\(tributary agent, since`));
  agent.child.kill('SIGTERM');
  assert.equal((await agent.done).code, 0);
  const state = () =>
    readJournal(journal, (db) =>
      db.prepare(`SELECT state, last_error_code, forgotten_at, forget_reason FROM objects WHERE key = 'denied.json'`).get(),
    ) as { state: string; last_error_code: string; forgotten_at: number | null; forget_reason: string | null };
  assert.equal(state().state, 'dead');

  // A key that is not dead: nothing forgotten, and why.
  const notDead = await runCli(['forget', '--reason', REASON, '--key', 'edge/fine.json', '-c', config]);
  assert.equal(notDead.code, 0, notDead.stderr);
  assert.equal(notDead.stdout.trim(), `forgot 0 dead objects at edge/fine.json (edge/fine.json is done); reason: ${REASON}`);

  const startedAt = Date.now();
  const forgot = await runCli(['forget', '--reason', REASON, '--code', 'trib_err_core_access_denied', '-c', config]);
  assert.equal(forgot.code, 0, forgot.stdout + forgot.stderr);
  assert.equal(forgot.stdout.trim(), `forgot 1 dead object with TRIB_ERR_CORE_ACCESS_DENIED; reason: ${REASON}`);
  const row = state();
  assert.deepEqual([row.state, row.last_error_code, row.forget_reason], ['forgotten', 'TRIB_ERR_CORE_ACCESS_DENIED', REASON]);
  assert.ok(row.forgotten_at !== null && row.forgotten_at >= startedAt && row.forgotten_at <= Date.now(), String(row.forgotten_at));

  const status = await runCli(['status', '-c', config]);
  assert.match(status.stdout, /^backlog: 0 objects pending \(0 B\), 0 failed, 0 dead;/m);
  assert.match(status.stdout, /^forgotten: 1 dead object \(15 B\) acknowledged with tributary forget$/m);
  assert.match(
    status.stdout,
    new RegExp(`^ {2}1 object, latest \\d\\d:\\d\\d:\\d\\d: "${REASON}"; edge/denied\\.json \\(TRIB_ERR_CORE_ACCESS_DENIED\\)$`, 'm'),
  );

  // The next run neither retries it nor counts it: exit 0, and its heartbeat makes the site healthy.
  const putsBefore = puts.length;
  const next = await runCli(['sync', '--once', '-c', config]);
  assert.equal(next.code, 0, next.stdout + next.stderr);
  assert.deepEqual(puts.slice(putsBefore), ['/lake/_tributary/sites/site-a/heartbeat.json'], 'no PUT of the forgotten object');
  const healthy = await runCli(['fleet', '-c', coreOnly]);
  assert.equal(healthy.code, 0, healthy.stdout + healthy.stderr);
  assert.match(healthy.stdout, /^site-a\s+healthy\b/m);
  // retry works on dead objects only.
  assert.match((await runCli(['retry', '-c', config])).stdout, /re-queued 0 dead objects/);
  assert.equal(state().state, 'forgotten');
});
