/**
 * `verify --repair` (issue 12, point 3): after a sync, the core is damaged in every way verify
 * reports (a copy deleted, one overwritten with other bytes, one with a header changed, a journal
 * row deleted, an object dead, an edge object never journaled). `verify` exits 1; `verify
 * --repair` lands them again in the same run, says what it repaired and exits 0; `verify` exits 0
 * afterwards. The core holds the right bytes, untouched copies are not rewritten, the manifests
 * have one re-landing line per repaired object, and the repairs are counted in the journal and
 * in the agent's /metrics. Beside a running agent, `verify --repair` is refused.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';

import { killIfRunning, listeningAddress, runCli, spawnCli, waitForLog } from '../helpers/cli.js';
import { readJournal } from '../helpers/journal-db.js';
import {
  getObject,
  headObject,
  headRawHeaders,
  listKeys,
  putObject,
  putObjectWithHeaders,
  replaceObjectHeaders,
  startTestS3,
  type TestS3,
} from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';
import { writeTestConfig } from '../helpers/test-config.js';

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');

interface ManifestLine {
  source_key: string;
  sha256: string;
  landed_at: string;
  relanding?: string;
}

async function manifestLines(core: TestS3): Promise<ManifestLine[]> {
  const lines: ManifestLine[] = [];
  for (const key of await listKeys(core, 'lake', '_tributary/manifests/')) {
    for (const line of (await getObject(core, 'lake', key)).toString().trim().split('\n')) lines.push(JSON.parse(line) as ManifestLine);
  }
  return lines;
}

test('verify --repair lands again what is missing or different, says so, and verify is clean afterwards', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const bodies = new Map<string, string>();
  for (const name of ['deleted', 'overwritten', 'retyped', 'unjournaled', 'dead', 'fine-1', 'fine-2']) {
    bodies.set(`${name}.txt`, `the ${name} object\n`.repeat(3));
  }
  for (const [key, body] of bodies) {
    if (key === 'retyped.txt') await putObjectWithHeaders(edge, 'edge', key, body, { 'content-type': 'text/plain' });
    else await putObject(edge, 'edge', key, body);
  }
  const config = writeTestConfig(dir, edge, core, { extra: { scan: { interval: '1h' } } });
  const journal = join(dir, 'journal');
  const sync = await runCli(['sync', '--once', '-c', config]);
  assert.equal(sync.code, 0, sync.stderr);
  assert.equal((await manifestLines(core)).length, 7);

  // Beside a running agent a repair is refused, naming the agent; plain verify works.
  const running = spawnCli(['agent', '-c', config, '--log-level', 'info']);
  t.after(() => killIfRunning(running));
  await waitForLog(running, 'scan complete');
  const refused = await runCli(['verify', '--repair', '-c', config]);
  assert.equal(refused.code, 2, refused.stdout + refused.stderr);
  assert.match(refused.stderr, new RegExp(`TRIB_ERR_JOURNAL_LOCKED: .* is in use by pid ${running.child.pid} \\(tributary agent, since`));
  assert.equal((await runCli(['verify', '-c', config])).code, 0);
  running.child.kill('SIGTERM');
  assert.equal((await running.done).code, 0);

  // Last-Modified has whole seconds: a rewrite after this shows.
  await sleep(1100);
  const untouched = ['fine-1.txt', 'fine-2.txt', 'unjournaled.txt'];
  const before = new Map<string, number>();
  for (const key of untouched) before.set(key, (await headObject(core, 'lake', `site-a/edge/${key}`)).LastModified!.getTime());

  // The damage.
  await core.client.send(new DeleteObjectCommand({ Bucket: 'lake', Key: 'site-a/edge/deleted.txt' }));
  await putObject(core, 'lake', 'site-a/edge/overwritten.txt', 'someone else wrote this');
  await replaceObjectHeaders(core, 'lake', 'site-a/edge/retyped.txt', { 'content-type': 'application/x-tampered' });
  const db = new Database(join(journal, 'journal.db'));
  db.prepare(`DELETE FROM objects WHERE key = 'unjournaled.txt'`).run();
  db.prepare(
    `UPDATE objects SET state = 'dead', attempts = 10, last_error_code = 'TRIB_ERR_CORE_ACCESS_DENIED', last_error = 'core PUT: access denied',
       landed_at = NULL, core_key = NULL, sha256 = NULL, core_etag = NULL, core_size = NULL, manifest_batch = NULL
     WHERE key = 'dead.txt'`,
  ).run();
  db.close();
  await core.client.send(new DeleteObjectCommand({ Bucket: 'lake', Key: 'site-a/edge/dead.txt' }));
  bodies.set('new.txt', 'written after the sync\n');
  await putObject(edge, 'edge', 'new.txt', bodies.get('new.txt')!);

  const damaged = await runCli(['verify', '-c', config]);
  assert.equal(damaged.code, 1, damaged.stdout + damaged.stderr);
  assert.match(damaged.stdout, /^missing\s+edge\/deleted\.txt: core object site-a\/edge\/deleted\.txt does not exist$/m);
  assert.match(
    damaged.stdout,
    new RegExp(`^different\\s+edge/overwritten\\.txt: core size 23, landed as ${bodies.get('overwritten.txt')!.length}$`, 'm'),
  );
  assert.match(damaged.stdout, /^different\s+edge\/retyped\.txt: Content-Type: core "application\/x-tampered", edge "text\/plain"/m);
  assert.match(
    damaged.stdout,
    /^pending\s+edge\/unjournaled\.txt: not in the journal .* the core already holds site-a\/edge\/unjournaled\.txt/m,
  );
  assert.match(damaged.stdout, /^missing\s+edge\/dead\.txt: dead: core PUT: access denied$/m);
  assert.match(damaged.stdout, /^missing\s+edge\/new\.txt: not in the journal .*; no core object site-a\/edge\/new\.txt$/m);
  assert.match(damaged.stdout, /8 objects checked, 6 missing, pending or different/);

  const repair = await runCli(['verify', '--repair', '-c', config]);
  assert.equal(repair.code, 0, repair.stdout + repair.stderr);
  assert.match(
    repair.stdout,
    /^repair: queued 4 to land again, journaled 1 the journal lacked, adopted 1 the core already holds; landed 5 in /m,
  );
  for (const key of ['dead', 'deleted', 'overwritten', 'retyped']) {
    assert.match(repair.stdout, new RegExp(`^repaired\\s+edge/${key}\\.txt: landed again$`, 'm'), key);
  }
  assert.match(repair.stdout, /^repaired\s+edge\/new\.txt: journaled and landed$/m);
  assert.match(repair.stdout, /^repaired\s+edge\/unjournaled\.txt: adopted$/m);
  assert.match(repair.stdout, /^verify --repair: 6 of 6 repaired, 0 still missing, pending or different$/m);

  const clean = await runCli(['verify', '--deep', '-c', config]);
  assert.equal(clean.code, 0, clean.stdout + clean.stderr);
  assert.match(clean.stdout, /8 objects checked, 0 missing/);

  // The right bytes and headers in the core; what was not damaged was not written again.
  for (const [key, body] of bodies) assert.equal((await getObject(core, 'lake', `site-a/edge/${key}`)).toString(), body, key);
  assert.equal((await headRawHeaders(core, 'lake', 'site-a/edge/retyped.txt'))['content-type'], 'text/plain');
  for (const key of untouched) {
    assert.equal((await headObject(core, 'lake', `site-a/edge/${key}`)).LastModified!.getTime(), before.get(key), `${key} was rewritten`);
  }

  // One re-landing line per object landed by the repair; none for the adopted one.
  const lines = await manifestLines(core);
  const relandings = lines.filter((l) => l.relanding !== undefined);
  assert.deepEqual(
    relandings.map((l) => [l.source_key, l.relanding, l.sha256]).sort(),
    ['dead', 'deleted', 'new', 'overwritten', 'retyped'].map((name) => [`${name}.txt`, 'repair', sha256(bodies.get(`${name}.txt`)!)]),
  );
  assert.equal(lines.length, 7 + 5);
  assert.equal(lines.filter((l) => l.source_key === 'unjournaled.txt').length, 1, 'the adopted object is not listed again');

  // Counted in the journal, whichever process reads it: status, and the agent's /metrics.
  const counted = readJournal(journal, (j) => j.prepare(`SELECT value FROM agent_meta WHERE name = 'relandings_repair'`).get()) as {
    value: string;
  };
  assert.equal(Number(counted.value), 5);
  const status = await runCli(['status', '-c', config]);
  assert.match(status.stdout, /^re-landed: 5 objects by verify --repair, 0 after edge retention found the core copy gone$/m);
  const agent = spawnCli(['agent', '-c', config, '--log-level', 'info']);
  t.after(() => killIfRunning(agent));
  const metrics = await (await fetch(`http://${await listeningAddress(agent)}/metrics`)).text();
  assert.match(metrics, /^tributary_relandings_total\{reason="repair"\} 5$/m);
  assert.match(metrics, /^tributary_relandings_total\{reason="core-copy-missing"\} 0$/m);
  agent.child.kill('SIGTERM');
  await agent.done;
});
