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
  assert.doesNotMatch(after, /^tributary_backlog_objects\{/m);
  assert.match(after, /^tributary_oldest_pending_age_seconds 0$/m);
});
