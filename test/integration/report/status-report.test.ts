/**
 * `status` over a real journal: objects failing the same way are one group with their count (the
 * message with each object's own key taken out), the latest time and a few of them; vanished and
 * forgotten objects are counted and listed apart from the backlog.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';

import { openJournal } from '../../../src/journal/open-journal.js';
import { buildStatus } from '../../../src/report/status-report.js';
import { FakeClock } from '../../helpers/fakes.js';
import { tempDir } from '../../helpers/temp-dir.js';

const normal = () => ({ priority: 2, excluded: false });

test('status groups identical errors: the same state, code and message but for the key, with a count, the latest time and examples', (t) => {
  const clock = new FakeClock();
  const journal = openJournal(join(tempDir(t), 'j'), clock);
  t.after(() => journal.close());
  const keys = Array.from({ length: 30 }, (_, i) => `logs/part-${String(i).padStart(2, '0')}.json`);
  journal.recordSeen(
    keys.map((key) => ({ bucket: 'edge', key, etag: `e-${key}`, size: 100, mtime: new Date(0) })),
    normal,
    'scan',
  );
  const jobs = journal.claim(30);
  assert.equal(jobs.length, 30);
  const fail = (i: number, code: 'TRIB_ERR_CORE_ACCESS_DENIED' | 'TRIB_ERR_CORE_SERVER', message: string, outcome: 'dead' | 'retry') => {
    clock.advance(1000);
    journal.markFailed(jobs[i]!.id, { code, message, outcome, consumeAttempt: true, nextAttemptAt: clock.now() + 60_000 });
  };
  // 20 refused by the core, each message naming its own core key; 6 server errors of two kinds.
  for (let i = 0; i < 20; i += 1)
    fail(i, 'TRIB_ERR_CORE_ACCESS_DENIED', `core PUT site-a/edge/${jobs[i]!.key}: access denied: AccessDenied (HTTP 403)`, 'dead');
  for (let i = 20; i < 24; i += 1)
    fail(i, 'TRIB_ERR_CORE_SERVER', `core PUT site-a/edge/${jobs[i]!.key}: InternalError (HTTP 500)`, 'retry');
  for (let i = 24; i < 26; i += 1) fail(i, 'TRIB_ERR_CORE_SERVER', `core PUT site-a/edge/${jobs[i]!.key}: SlowDown (HTTP 503)`, 'retry');
  // The same message as the 20, but a failed (not dead) object: a group of its own.
  fail(26, 'TRIB_ERR_CORE_ACCESS_DENIED', `core PUT site-a/edge/${jobs[26]!.key}: access denied: AccessDenied (HTTP 403)`, 'retry');
  const latest = clock.now();

  const report = buildStatus('site-a', journal, clock.now());
  assert.deepEqual(
    report.errorGroups.map((g) => [g.state, g.code, g.objects, g.message]),
    [
      ['failed', 'TRIB_ERR_CORE_ACCESS_DENIED', 1, 'core PUT site-a/…: access denied: AccessDenied (HTTP 403)'],
      ['failed', 'TRIB_ERR_CORE_SERVER', 2, 'core PUT site-a/…: SlowDown (HTTP 503)'],
      ['failed', 'TRIB_ERR_CORE_SERVER', 4, 'core PUT site-a/…: InternalError (HTTP 500)'],
      ['dead', 'TRIB_ERR_CORE_ACCESS_DENIED', 20, 'core PUT site-a/…: access denied: AccessDenied (HTTP 403)'],
    ],
  );
  const denied = report.errorGroups[3]!;
  assert.equal(denied.latestAt, latest - 7000, 'the time of the newest of the 20');
  // The newest three, each with its own message and attempts.
  assert.deepEqual(
    denied.examples.map((e) => [e.key, e.attempts, e.error]),
    [19, 18, 17].map((i) => [keys[i], 1, `core PUT site-a/edge/${keys[i]}: access denied: AccessDenied (HTTP 403)`]),
  );
  assert.equal(report.errorGroups[0]!.examples[0]!.key, keys[26]);
  // What it had stays: the latest errors one by one.
  assert.equal(report.recentErrors.length, 10);
  assert.equal(report.recentErrors[0]!.key, keys[26]);
  assert.deepEqual(
    journal.errorGroups(2, 1).map((g) => [g.objects, g.examples.length]),
    [
      [1, 1],
      [2, 1],
    ],
    'at most `limit` groups of at most `examples` keys',
  );
});

test('status counts vanished and forgotten objects apart from the backlog, the latest vanished with both times, forgotten ones by reason', (t) => {
  const clock = new FakeClock();
  const journal = openJournal(join(tempDir(t), 'j'), clock);
  t.after(() => journal.close());
  journal.recordSeen(
    ['a', 'b', 'c', 'd', 'e'].map((key) => ({ bucket: 'edge', key, etag: key, size: 10, mtime: new Date(0) })),
    normal,
    'scan',
  );
  const seenAt = clock.now();
  const [a, b, c, d] = journal.claim(4);
  clock.advance(2000);
  journal.markVanished(a!.id, 'deleted at the edge before it could be read');
  clock.advance(1000);
  journal.markVanished(b!.id, 'deleted at the edge before it could be read');
  for (const job of [c!, d!])
    journal.markFailed(job.id, {
      code: 'TRIB_ERR_EDGE_ACCESS_DENIED',
      message: 'denied',
      outcome: 'dead',
      consumeAttempt: true,
      nextAttemptAt: 0,
    });
  clock.advance(1000);
  assert.equal(journal.forgetDead({ bucket: 'edge', key: 'c' }, 'a test file, never needed'), 1);
  assert.equal(journal.forgetDead({ bucket: 'edge', key: 'c' }, 'again'), 0, 'only dead objects are forgotten');

  const report = buildStatus('site-a', journal, clock.now());
  assert.deepEqual(report.totals, {
    pendingObjects: 1,
    pendingBytes: 10,
    failedObjects: 0,
    deadObjects: 1,
    vanishedObjects: 2,
    forgottenObjects: 1,
  });
  assert.deepEqual(
    report.backlog.map((r) => r.state),
    ['dead', 'queued'],
  );
  assert.deepEqual(report.vanished, {
    objects: 2,
    bytes: 20,
    latest: [
      { bucket: 'edge', key: 'b', size: 10, firstSeenAt: seenAt, vanishedAt: seenAt + 3000 },
      { bucket: 'edge', key: 'a', size: 10, firstSeenAt: seenAt, vanishedAt: seenAt + 2000 },
    ],
  });
  assert.deepEqual(report.forgotten, {
    objects: 1,
    bytes: 10,
    reasons: [
      {
        reason: 'a test file, never needed',
        objects: 1,
        bytes: 10,
        latestAt: seenAt + 4000,
        examples: [{ bucket: 'edge', key: 'c', code: 'TRIB_ERR_EDGE_ACCESS_DENIED' }],
      },
    ],
  });
  assert.deepEqual(
    report.errorGroups.map((g) => [g.state, g.objects, g.examples.map((e) => e.key)]),
    [['dead', 1, ['d']]],
    'vanished and forgotten objects are not errors',
  );
});
