/**
 * One journal, one process (issue 12, point 5): beside a running agent, a second agent,
 * `sync --once` and `retry` refuse with exit 2 naming the journal and the agent's pid; `status`
 * and `verify` work as usual; once the agent is SIGKILLed the next `sync --once` runs.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';

import { killIfRunning, runCli, spawnCli, waitForLog } from '../helpers/cli.js';
import { journalRows } from '../helpers/journal-db.js';
import { getObject, putObject, startTestS3 } from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';
import { writeTestConfig } from '../helpers/test-config.js';
import { waitFor } from '../helpers/wait.js';

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

test('beside a running agent: a second agent, sync --once and retry exit 2 naming it; status and verify work; after a SIGKILL the next sync runs', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  for (let i = 0; i < 3; i += 1) await putObject(edge, 'edge', `first/${i}.json`, `{"i":${i}}\n`);
  const config = writeTestConfig(dir, edge, core, { extra: { scan: { interval: '1h' } } });
  const journal = join(dir, 'journal');

  const agent = spawnCli(['agent', '-c', config]);
  t.after(() => killIfRunning(agent));
  await waitForLog(agent, 'agent started');
  await waitFor(
    'the agent to land the first objects',
    () => journalRows(journal).filter((r) => r.state === 'done').length === 3,
    60_000,
    () => agent.stderr().slice(-3000),
  );

  const inUse = new RegExp(
    `TRIB_ERR_JOURNAL_LOCKED: journal ${escape(journal)} is in use by pid ${agent.child.pid} \\(tributary agent, since \\d{4}-\\d\\d-\\d\\dT[^)]*\\): stop it first; status and verify work beside it`,
  );
  for (const args of [['agent'], ['sync', '--once'], ['retry']]) {
    const refused = await runCli([...args, '-c', config]);
    assert.equal(refused.code, 2, `${args.join(' ')}: ${refused.stderr}`);
    assert.match(refused.stderr, inUse, args.join(' '));
  }
  assert.equal(agent.child.exitCode, null, 'the running agent is untouched');

  const status = await runCli(['status', '-c', config]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /backlog: 0 objects pending/);
  const verify = await runCli(['verify', '-c', config]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.match(verify.stdout, /3 objects checked, 0 missing/);

  agent.child.kill('SIGKILL');
  await agent.done;
  await putObject(edge, 'edge', 'after/kill.json', '{"after":"kill"}\n');
  const sync = await runCli(['sync', '--once', '-c', config]);
  assert.equal(sync.code, 0, sync.stderr);
  assert.equal((await getObject(core, 'lake', 'site-a/edge/after/kill.json')).toString(), '{"after":"kill"}\n');
});
