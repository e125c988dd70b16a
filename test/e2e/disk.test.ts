/**
 * The journal's file system full, then read-only: a clear fatal error and a non-zero exit, the
 * journal intact (SQLite's integrity check); once space is freed or writes allowed again, a
 * restart continues where it stopped. Uses a small tmpfs (root only: CI runs as root).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { forEachConcurrently } from '../../src/core/for-each-concurrently.js';
import { runCli } from '../helpers/cli.js';
import { readJournal } from '../helpers/journal-db.js';
import { listKeys, putObject, startTestS3 } from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';
import { writeTestConfig } from '../helpers/test-config.js';

function canMount(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

test('journal on a full, then read-only file system: fatal, intact, and it resumes', async (t) => {
  const dir = tempDir(t);
  const fs = join(dir, 'journal-fs');
  mkdirSync(fs);
  if (!canMount(fs)) {
    t.skip('mounting a tmpfs needs root');
    return;
  }
  try {
    await exercise(t, dir, fs);
  } finally {
    // Before the temp folder is removed (after hooks run later, in order of registration).
    execFileSync('umount', ['-l', fs], { stdio: 'ignore' });
  }
});

async function exercise(t: Parameters<typeof tempDir>[0], dir: string, fs: string): Promise<void> {
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const count = 3000;
  await forEachConcurrently([...Array(count).keys()], 16, (i) =>
    putObject(edge, 'edge', `k/${String(Math.floor(i / 100)).padStart(2, '0')}/${i}-${'x'.repeat(60)}.json`, `{"i":${i}}`),
  );
  const journal = join(fs, 'journal');
  const config = writeTestConfig(dir, edge, core);
  // Point the journal into the small file system, and leave it little room.
  writeFileSync(config, readFileSync(config, 'utf8').replace(/^journal: .*$/m, `journal: ${journal}`));
  const filler = join(fs, 'filler');
  execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1k', `count=${32 * 1024 - 200}`], { stdio: 'ignore' });

  const full = await runCli(['sync', '--once', '-c', config], { timeoutMs: 60_000 });
  assert.notEqual(full.code, 0);
  assert.match(full.stderr, /journal .*: cannot .* \(the disk is full\)/);

  rmSync(filler);
  assert.equal(
    readJournal(journal, (db) => db.pragma('integrity_check', { simple: true })),
    'ok',
  );
  const resumed = await runCli(['sync', '--once', '-c', config]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal((await listKeys(core, 'lake', 'site-a/')).length, count);

  // Read-only: refused clearly, then fine again.
  await putObject(edge, 'edge', 'late.json', '{}');
  execFileSync('mount', ['-o', 'remount,ro', fs]);
  const readOnly = await runCli(['sync', '--once', '-c', config], { timeoutMs: 60_000 });
  assert.notEqual(readOnly.code, 0);
  assert.match(readOnly.stderr, /journal .*: cannot .*(not writable|read-only|readonly)/i);
  execFileSync('mount', ['-o', 'remount,rw', fs]);
  assert.equal(
    readJournal(journal, (db) => db.pragma('integrity_check', { simple: true })),
    'ok',
  );
  const after = await runCli(['sync', '--once', '-c', config]);
  assert.equal(after.code, 0, after.stderr);
  assert.equal((await listKeys(core, 'lake', 'site-a/')).length, count + 1);
}
