/**
 * One journal, one process: the lock refuses a second owner at once, naming the one that has it,
 * and a killed owner never blocks the next one (SQLite's lock is a POSIX advisory lock, which the
 * kernel drops with the process). A reader (verify) writes nothing beside the owner.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { buildAgent } from '../../../src/agent/build-agent.js';
import { LOCK_FILE, OWNER_FILE, lockJournal } from '../../../src/agent/journal-lock.js';
import { openLocalJournal } from '../../../src/agent/local-journal.js';
import { coerceError } from '../../../src/core/errors.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { FakeLake, FakeSource } from '../../helpers/fakes.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { configForFakes } from '../../helpers/test-config.js';

function lockedError(run: () => unknown): Error & { code: string } {
  try {
    run();
  } catch (error) {
    return coerceError(error);
  }
  assert.fail('the second lock was granted');
}

test('a second owner is refused at once with the folder, pid, command and start of the first; after release it gets the journal', (t) => {
  const folder = join(tempDir(t), 'journal');
  const first = lockJournal(folder, 'tributary agent');
  const owner = JSON.parse(readFileSync(join(folder, OWNER_FILE), 'utf8')) as { pid: number; command: string; since: string };
  assert.equal(owner.pid, process.pid);
  assert.equal(owner.command, 'tributary agent');

  const refused = lockedError(() => lockJournal(folder, 'tributary sync --once'));
  assert.equal(refused.code, 'TRIB_ERR_JOURNAL_LOCKED');
  assert.equal(
    refused.message,
    `journal ${folder} is in use by pid ${process.pid} (tributary agent, since ${owner.since}): stop it first; status and verify work beside it`,
  );

  first.release();
  first.release(); // a second release does nothing
  assert.equal(existsSync(join(folder, OWNER_FILE)), false, 'the owner file goes with the lock');
  const second = lockJournal(folder, 'tributary sync --once');
  t.after(() => second.release());
  assert.match(readFileSync(join(folder, OWNER_FILE), 'utf8'), /"command":"tributary sync --once"/);
});

test('a SIGKILLed owner in another process leaves no lock behind', async (t) => {
  const folder = join(tempDir(t), 'journal');
  const module = fileURLToPath(new URL('../../../src/agent/journal-lock.ts', import.meta.url));
  const script = `const { lockJournal } = await import(${JSON.stringify(module)}); lockJournal(process.argv[1], 'tributary agent'); console.log('locked'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, folder], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => child.kill('SIGKILL'));
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  assert.equal(line.toString().trim(), 'locked');

  const refused = lockedError(() => lockJournal(folder, 'tributary retry'));
  assert.equal(refused.code, 'TRIB_ERR_JOURNAL_LOCKED');
  assert.match(refused.message, new RegExp(`in use by pid ${child.pid} \\(tributary agent, since `));

  child.kill('SIGKILL');
  await once(child, 'exit');
  assert.ok(existsSync(join(folder, LOCK_FILE)));
  assert.ok(existsSync(join(folder, OWNER_FILE)), 'the killed owner could not remove its file');
  const next = lockJournal(folder, 'tributary retry');
  t.after(() => next.release());
  assert.match(readFileSync(join(folder, OWNER_FILE), 'utf8'), new RegExp(`"pid":${process.pid},"command":"tributary retry"`));
});

test('the agent owns the journal: a second agent or retry is refused; a reader (verify) opens it beside the owner and recovers nothing', async (t) => {
  const dir = tempDir(t);
  const config = configForFakes(dir);
  const source = new FakeSource();
  source.put('edge', 'a.json', '{"a":1}\n');
  const owner = buildAgent(config, { logger: silentLogger, source, lake: new FakeLake(), journalAccess: { owner: 'tributary agent' } });
  await owner.scan();
  const [claimed] = owner.journal.claim(1);
  assert.equal(claimed?.state, 'transferring');

  const second = lockedError(() => buildAgent(config, { logger: silentLogger, source, lake: new FakeLake() }));
  assert.equal(second.code, 'TRIB_ERR_JOURNAL_LOCKED');
  assert.equal(lockedError(() => openLocalJournal(config, { owner: 'tributary retry' })).code, 'TRIB_ERR_JOURNAL_LOCKED');

  const reader = buildAgent(config, { logger: silentLogger, source, lake: new FakeLake(), journalAccess: 'reader' });
  assert.equal(reader.journal.get(claimed.id)?.state, 'transferring', "the owner's transfer is left to the owner");
  await reader.close();
  const status = openLocalJournal(config, 'reader');
  assert.equal(status.get(claimed.id)?.state, 'transferring');
  status.close();

  await owner.close();
  const next = buildAgent(config, { logger: silentLogger, source, lake: new FakeLake() });
  t.after(() => next.close());
  assert.equal(next.journal.get(claimed.id)?.state, 'queued', 'the next owner recovers what was left in flight');
});
