import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createSyncProgress } from '../../../src/cli/progress.js';

test('the sync bar advances by bytes: a thousand small objects are not most of a pass with one large one', () => {
  let now = 0;
  const progress = createSyncProgress(false, () => now);
  const MiB = 1024 * 1024;
  progress.setTotals(1001, 1000 * 1024 + 100 * MiB);
  for (let i = 0; i < 1000; i += 1) {
    now += 10;
    progress.bytesSent(1024);
    progress.objectDone(1024, false);
  }
  const small = progress.snapshot();
  assert.equal(small.value, 1000 * 1024);
  assert.ok(small.value / small.total < 0.01, 'about 1 % of the bytes, though 99.9 % of the objects');
  assert.equal(small.fields['objects'], 1000);
  // The large one goes as parts; a second object found in the core counts its bytes as done too.
  for (let part = 0; part < 20; part += 1) {
    now += 1000;
    progress.bytesSent(5 * MiB);
  }
  progress.objectDone(100 * MiB, false);
  assert.equal(progress.snapshot().value, progress.snapshot().total);
  progress.setTotals(1002, 1000 * 1024 + 110 * MiB);
  progress.objectDone(10 * MiB, true);
  assert.equal(progress.snapshot().value, 1000 * 1024 + 110 * MiB);
  assert.equal(progress.snapshot().fields['eta'], '0ms');
});
