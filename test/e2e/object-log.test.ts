/**
 * The agent's log says what happens to each object that does not land at once: one line per
 * failure with its key, error code, attempt and next attempt, and one when it goes dead.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { stringify } from 'yaml';

import { killIfRunning, spawnCli } from '../helpers/cli.js';
import { journalRows } from '../helpers/journal-db.js';
import { putObject, startTestS3 } from '../helpers/local-s3.js';
import { startRewritingProxy, type Rewrite } from '../helpers/rewriting-proxy.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testConfigDocument } from '../helpers/test-config.js';
import { waitFor } from '../helpers/wait.js';

/** A 500 for the request, which never reaches the server (so no copy is stored behind the error). */
const serverError = (): Rewrite => ({
  request: (request) => ({ ...request, method: 'GET', url: '/no-such-bucket-here', body: Buffer.alloc(0) }),
  answer: (answer) => ({
    ...answer,
    status: 500,
    headers: { 'content-type': 'application/xml' },
    body: Buffer.from('<?xml version="1.0"?><Error><Code>InternalError</Code><Message>try again</Message></Error>'),
  }),
});

test('the agent logs one line per failed attempt (key, code, attempt, next attempt) and one when an object is dead', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  await putObject(edge, 'edge', 'flaky.json', '{"flaky":true}');
  await putObject(edge, 'edge', 'broken.json', '{"broken":true}');
  await putObject(edge, 'edge', 'fine.json', '{"fine":true}');
  let flakyFailures = 0;
  const proxy = await startRewritingProxy(core.port, (request) => {
    if (request.method !== 'PUT') return undefined;
    if (request.url.startsWith('/lake/site-a/edge/broken.json')) return serverError();
    if (request.url.startsWith('/lake/site-a/edge/flaky.json') && flakyFailures < 2) {
      flakyFailures += 1;
      return serverError();
    }
    return undefined;
  });
  t.after(() => proxy.close());
  const doc = testConfigDocument(dir, edge, core, { extra: { transfer: { maxAttempts: 3, retryBase: '200ms', retryCap: '400ms' } } });
  // One request per attempt: the HTTP client's own retries would hide the failures from the runner.
  (doc['core'] as Record<string, unknown>)['endpoint'] = proxy.endpoint;
  (doc['core'] as Record<string, unknown>)['maxAttempts'] = 1;
  const file = join(dir, 'tributary.yaml');
  writeFileSync(file, stringify(doc));

  const agent = spawnCli(['agent', '-c', file]);
  t.after(() => killIfRunning(agent));
  const rows = () => journalRows(join(dir, 'journal'));
  await waitFor(
    'flaky.json landed and broken.json dead',
    () => {
      try {
        const now = rows();
        return now.find((r) => r.key === 'flaky.json')?.state === 'done' && now.find((r) => r.key === 'broken.json')?.state === 'dead';
      } catch {
        return false; // the journal is not created yet
      }
    },
    60_000,
    () => agent.stderr(),
  );
  agent.child.kill('SIGTERM');
  await agent.done;

  const lines = agent
    .stderr()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const about = (key: string) => lines.filter((line) => line['key'] === key);
  const flaky = about('flaky.json');
  assert.equal(flaky.length, 2, JSON.stringify(flaky));
  flaky.forEach((line, index) => {
    assert.equal(line['level'], 40, 'warn');
    assert.equal(line['bucket'], 'edge');
    assert.equal(line['code'], 'TRIB_ERR_CORE_SERVER');
    assert.equal(line['attempt'], index + 1);
    assert.ok(!Number.isNaN(Date.parse(line['nextAttemptAt'] as string)), String(line['nextAttemptAt']));
    assert.match(line['msg'] as string, /^object failed; next attempt at \d{4}-\d\d-\d\dT/);
  });
  const broken = about('broken.json');
  assert.deepEqual(
    broken.map((line) => [line['level'], line['attempt']]),
    [
      [40, 1],
      [40, 2],
      [50, 3],
    ],
  );
  assert.equal(broken.at(-1)!['msg'], 'object is dead');
  assert.equal(about('fine.json').length, 0, 'an object that lands at once is not logged one by one');
});
