/**
 * An object deleted at the edge between the scan and its GET (issue 12, point 4): it ends
 * `vanished`, with the time it was first seen and the time it disappeared; `sync --once` exits 0;
 * `status` lists it; the heartbeat and the agent's metrics count it; the fleet says healthy; it is
 * never retried.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { stringify } from 'yaml';

import { killIfRunning, listeningAddress, runCli, spawnCli } from '../helpers/cli.js';
import { readJournal } from '../helpers/journal-db.js';
import { getObject, listKeys, putObject, startTestS3 } from '../helpers/local-s3.js';
import { startRewritingProxy } from '../helpers/rewriting-proxy.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testConfigDocument } from '../helpers/test-config.js';

const NO_SUCH_KEY = Buffer.from(
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>',
);

test('an object deleted at the edge before its GET is vanished: sync exits 0, status, heartbeat, metrics and fleet show it, never retried', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  await putObject(edge, 'edge', 'keep.json', '{"keep":true}');
  await putObject(edge, 'edge', 'vanish.json', '{"vanish":true}');
  // The scan lists vanish.json; its GET is where someone deletes it at the edge: the proxy sends a
  // DELETE in its place, and answers what the edge answers a GET of a deleted key (404 NoSuchKey).
  const gets: string[] = [];
  const proxy = await startRewritingProxy(edge.port, (request) => {
    const path = request.url.split('?')[0];
    if (request.method === 'GET' && path !== undefined && path.length > '/edge/'.length && !request.url.includes('list-type='))
      gets.push(path);
    if (request.method !== 'GET' || path !== '/edge/vanish.json') return undefined;
    return {
      request: (r) => {
        const { 'if-match': _ifMatch, range: _range, ...headers } = r.headers;
        return { ...r, method: 'DELETE', headers };
      },
      answer: (a) => ({ ...a, status: 404, headers: { 'content-type': 'application/xml' }, body: NO_SUCH_KEY }),
    };
  });
  t.after(() => proxy.close());
  const doc = testConfigDocument(dir, edge, core, { extra: { scan: { interval: '1h' } } });
  (doc['edge'] as Record<string, unknown>)['endpoint'] = proxy.endpoint;
  const config = join(dir, 'tributary.yaml');
  writeFileSync(config, stringify(doc));

  const sync = await runCli(['sync', '--once', '-c', config]);
  assert.equal(sync.code, 0, sync.stdout + sync.stderr);
  assert.match(sync.stdout, /landed 1 .*; pending 0, failed 0, dead 0, vanished 1 \(deleted at the edge before they could be read\)/);
  assert.deepEqual(await listKeys(edge, 'edge'), ['keep.json'], 'deleted at the edge, for real');
  assert.deepEqual(await listKeys(core, 'lake', 'site-a/'), ['site-a/edge/keep.json']);

  const [row] = readJournal(join(dir, 'journal'), (db) =>
    db.prepare(`SELECT state, attempts, last_error_code, first_seen_at, vanished_at FROM objects WHERE key = 'vanish.json'`).all(),
  ) as { state: string; attempts: number; last_error_code: string; first_seen_at: number; vanished_at: number }[];
  assert.deepEqual([row!.state, row!.attempts, row!.last_error_code], ['vanished', 0, 'TRIB_ERR_SOURCE_GONE']);
  assert.ok(row!.vanished_at >= row!.first_seen_at && row!.vanished_at - row!.first_seen_at < 60_000, JSON.stringify(row));

  const status = await runCli(['status', '-c', config]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^backlog: 0 objects pending \(0 B\), 0 failed, 0 dead;/m);
  assert.match(status.stdout, /^vanished: 1 object \(15 B\) deleted at the edge before it could be read \(not failures, never retried\)$/m);
  assert.match(status.stdout, /^ {2}edge\/vanish\.json: first seen \d\d:\d\d:\d\d, vanished \d\d:\d\d:\d\d$/m);
  assert.doesNotMatch(status.stdout, /latest errors/, 'a vanished object is no error');
  const json = JSON.parse((await runCli(['status', '--json', '-c', config])).stdout) as {
    totals: { vanishedObjects: number; deadObjects: number };
    vanished: { objects: number; latest: { key: string; firstSeenAt: number; vanishedAt: number }[] };
  };
  assert.deepEqual([json.totals.vanishedObjects, json.totals.deadObjects, json.vanished.objects], [1, 0, 1]);
  assert.deepEqual(json.vanished.latest, [
    { bucket: 'edge', key: 'vanish.json', size: 15, firstSeenAt: row!.first_seen_at, vanishedAt: row!.vanished_at },
  ]);

  // The heartbeat of the run counts it, as not dead; the fleet says the site is healthy.
  const heartbeat = JSON.parse((await getObject(core, 'lake', '_tributary/sites/site-a/heartbeat.json')).toString()) as {
    backlog: { deadObjects: number; vanishedObjects: number; forgottenObjects: number };
  };
  assert.deepEqual(heartbeat.backlog, {
    pendingObjects: 0,
    pendingBytes: 0,
    failedObjects: 0,
    deadObjects: 0,
    vanishedObjects: 1,
    forgottenObjects: 0,
  });
  const coreOnly = join(dir, 'core.yaml');
  writeFileSync(coreOnly, stringify({ core: doc['core'] }));
  const fleet = await runCli(['fleet', '-c', coreOnly]);
  assert.equal(fleet.code, 0, fleet.stdout + fleet.stderr);
  assert.match(fleet.stdout, /^site-a\s+healthy\b/m);

  // Never retried: not by the next pass, not by `retry`.
  assert.deepEqual([...gets].sort(), ['/edge/keep.json', '/edge/vanish.json'], 'each object was read once in the first pass');
  const getsBefore = gets.length;
  const again = await runCli(['sync', '--once', '-c', config]);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.deepEqual(gets.slice(getsBefore), [], 'no GET of any object in the next pass');
  assert.match((await runCli(['retry', '-c', config])).stdout, /re-queued 0 dead objects/);

  // The agent's metrics count it (read from the journal at scrape time); no failure is counted.
  const agent = spawnCli(['agent', '-c', config, '--log-level', 'info']);
  t.after(() => killIfRunning(agent));
  const metrics = await (await fetch(`http://${await listeningAddress(agent)}/metrics`)).text();
  assert.match(metrics, /^tributary_objects\{state="vanished"\} 1$/m);
  assert.match(metrics, /^tributary_objects\{state="forgotten"\} 0$/m);
  assert.match(metrics, /^tributary_backlog_objects\{state="dead",priority="normal"\} 0$/m);
  agent.child.kill('SIGTERM');
  assert.equal((await agent.done).code, 0);
});
