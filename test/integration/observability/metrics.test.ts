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
    sha256: null,
  });
  journal.adopt([adopted('a', 1000), adopted('b', 500)]);
  assert.match(await metrics.registry.metrics(), /^tributary_already_in_core_bytes_total\{how="adopted"\} 1500$/m);
  journal.adopt([adopted('c', 250)]);
  const text = await metrics.registry.metrics();
  assert.match(text, /^tributary_already_in_core_bytes_total\{how="adopted"\} 1750$/m, 'a counter: it grows by what was adopted since');
  assert.match(text, /^tributary_already_in_core_bytes_total\{how="head"\} 0$/m);
});
