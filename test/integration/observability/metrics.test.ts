import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';

import { openJournal } from '../../../src/journal/open-journal.js';
import { createAgentMetrics } from '../../../src/observability/metrics.js';
import { FakeClock } from '../../helpers/fakes.js';
import { tempDir } from '../../helpers/temp-dir.js';

test('backlog gauges are read from the journal at scrape time, objects and bytes alike', async (t) => {
  const clock = new FakeClock();
  const journal = openJournal(join(tempDir(t), 'j'), clock);
  t.after(() => journal.close());
  const metrics = createAgentMetrics(journal, clock);
  const object = (key: string, size: number) => ({ bucket: 'b', key, etag: key, size, mtime: new Date(0) });
  journal.recordSeen([object('a', 10), object('b', 20)], () => ({ priority: 0, excluded: false }), 'scan');
  journal.recordSeen([object('c', 5)], () => ({ priority: 3, excluded: false }), 'scan');
  clock.advance(90_000);
  const text = await metrics.registry.metrics();
  assert.match(text, /^tributary_backlog_objects\{state="queued",priority="critical"\} 2$/m);
  assert.match(text, /^tributary_backlog_bytes\{state="queued",priority="critical"\} 30$/m);
  assert.match(text, /^tributary_backlog_objects\{state="queued",priority="bulk"\} 1$/m);
  assert.match(text, /^tributary_backlog_bytes\{state="queued",priority="bulk"\} 5$/m);
  assert.match(text, /^tributary_oldest_pending_age_seconds 90$/m);
  // A later scrape sees the journal as it is then.
  for (const job of journal.claim(10))
    journal.markLanded(job.id, { coreKey: `s/b/${job.key}`, sha256: 'x', coreEtag: null, coreSize: job.size });
  const after = await metrics.registry.metrics();
  // Nothing pending: every state and priority still has its series, at 0 (alerts need a series).
  for (const state of ['discovered', 'queued', 'transferring', 'failed', 'dead']) {
    for (const priority of ['critical', 'high', 'normal', 'bulk']) {
      assert.match(
        after,
        new RegExp(`^tributary_backlog_objects\\{state="${state}",priority="${priority}"\\} 0$`, 'm'),
        `${state} ${priority}`,
      );
      assert.match(
        after,
        new RegExp(`^tributary_backlog_bytes\\{state="${state}",priority="${priority}"\\} 0$`, 'm'),
        `${state} ${priority}`,
      );
    }
  }
  assert.equal(after.match(/^tributary_backlog_objects\{/gm)?.length, 20);
  assert.match(after, /^tributary_oldest_pending_age_seconds 0$/m);
});

test('bytes the core already held count as such, not as dedupe savings (no content dedupe yet: that counter stays 0)', async (t) => {
  const clock = new FakeClock();
  const journal = openJournal(join(tempDir(t), 'j'), clock);
  t.after(() => journal.close());
  const metrics = createAgentMetrics(journal, clock);
  journal.recordSeen(
    [{ bucket: 'b', key: 'k', etag: 'e', size: 700, mtime: new Date(0) }],
    () => ({ priority: 2, excluded: false }),
    'scan',
  );
  const [job] = journal.claim(1);
  const landed = { coreKey: 's/b/k', sha256: 'x', coreEtag: 'e', coreSize: 700 };
  metrics.hooks.onLanded?.(job!, { ...landed, alreadyPresent: true }, 5);
  metrics.hooks.onLanded?.(job!, { ...landed, alreadyPresent: false }, 5);
  const text = await metrics.registry.metrics();
  assert.match(text, /^tributary_already_in_core_bytes_total\{how="head"\} 700$/m);
  assert.match(text, /^tributary_already_in_core_bytes_total\{how="adopted"\} 0$/m);
  assert.match(text, /^tributary_dedupe_saved_bytes_total 0$/m);
  assert.match(text, /^tributary_bytes_total\{kind="logical"\} 1400$/m);
});

test("what a new journal adopted counts as already in the core (how=adopted), from the journal's total", async (t) => {
  const clock = new FakeClock();
  const journal = openJournal(join(tempDir(t), 'j'), clock);
  t.after(() => journal.close());
  const metrics = createAgentMetrics(journal, clock);
  const adopted = (key: string, size: number) => ({
    object: { bucket: 'b', key, etag: 'e'.repeat(32), size, mtime: new Date(0) },
    priority: 2,
    coreKey: `s/b/${key}`,
    coreEtag: 'e'.repeat(32),
    coreSize: size,
    sha256: 'a'.repeat(64),
    proof: 'manifest' as const,
    listInManifest: false,
  });
  journal.adopt([adopted('a', 1000), adopted('b', 500)]);
  assert.match(await metrics.registry.metrics(), /^tributary_already_in_core_bytes_total\{how="adopted"\} 1500$/m);
  journal.adopt([adopted('c', 250)]);
  const text = await metrics.registry.metrics();
  assert.match(text, /^tributary_already_in_core_bytes_total\{how="adopted"\} 1750$/m, 'a counter: it grows by what was adopted since');
  assert.match(text, /^tributary_already_in_core_bytes_total\{how="head"\} 0$/m);
});

test('vanished and forgotten objects, and re-landings by reason, are read from the journal at scrape time', async (t) => {
  const clock = new FakeClock();
  const folder = join(tempDir(t), 'j');
  const journal = openJournal(folder, clock);
  t.after(() => journal.close());
  const metrics = createAgentMetrics(journal, clock);
  const object = (key: string) => ({ bucket: 'b', key, etag: key, size: 10, mtime: new Date(0) });
  journal.recordSeen(['gone', 'dead', 'lands', 'again'].map(object), () => ({ priority: 2, excluded: false }), 'scan');
  const rows = new Map(journal.claim(10).map((job) => [job.key, job]));
  const land = (key: string) => journal.markLanded(rows.get(key)!.id, { coreKey: `s/b/${key}`, sha256: 'x', coreEtag: null, coreSize: 10 });
  journal.markVanished(rows.get('gone')!.id, 'deleted at the edge before it could be read');
  journal.markFailed(rows.get('dead')!.id, {
    code: 'TRIB_ERR_CORE_ACCESS_DENIED',
    message: 'denied',
    outcome: 'dead',
    consumeAttempt: true,
    nextAttemptAt: 0,
  });
  land('lands');
  land('again');
  const before = await metrics.registry.metrics();
  assert.match(before, /^tributary_objects\{state="vanished"\} 1$/m);
  assert.match(before, /^tributary_objects\{state="forgotten"\} 0$/m);
  assert.match(before, /^tributary_relandings_total\{reason="repair"\} 0$/m);
  assert.match(before, /^tributary_relandings_total\{reason="core-copy-missing"\} 0$/m);

  assert.equal(journal.forgetDead({}, 'known bad file'), 1);
  // One re-landing for each reason, each counted when it lands (not when it is queued).
  journal.requeueMissing(rows.get('lands')!.id, 'TRIB_ERR_CORE_COPY_MISSING', 'gone from the core', 'repair');
  journal.requeueMissing(rows.get('again')!.id, 'TRIB_ERR_CORE_COPY_MISSING', 'gone from the core');
  assert.match(await metrics.registry.metrics(), /^tributary_relandings_total\{reason="repair"\} 0$/m);
  for (const job of journal.claim(10)) journal.markLanded(job.id, { coreKey: `s/b/${job.key}`, sha256: 'x', coreEtag: null, coreSize: 10 });
  const after = await metrics.registry.metrics();
  assert.match(after, /^tributary_objects\{state="vanished"\} 1$/m);
  assert.match(after, /^tributary_objects\{state="forgotten"\} 1$/m);
  assert.match(after, /^tributary_relandings_total\{reason="repair"\} 1$/m);
  assert.match(after, /^tributary_relandings_total\{reason="core-copy-missing"\} 1$/m);
  // Neither vanished nor forgotten objects are backlog.
  assert.match(after, /^tributary_backlog_objects\{state="dead",priority="normal"\} 0$/m);
  // Another process (a fresh journal connection, as `verify --repair` and then the agent) sees the same count.
  journal.close();
  const reopened = openJournal(folder, clock);
  t.after(() => reopened.close());
  assert.match(await createAgentMetrics(reopened, clock).registry.metrics(), /^tributary_relandings_total\{reason="repair"\} 1$/m);
});
