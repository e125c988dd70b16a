import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createRecentLandings } from '../../../src/observability/recent-landings.js';

test('objects and bytes of the window are counted exactly at any rate; what left the window is not', () => {
  let now = 1_000_000;
  const recent = createRecentLandings({ now: () => now }, 5 * 60_000, 1000);
  // 60,000 landings over 5 minutes (200 a second), far more than the lag ring holds.
  for (let i = 0; i < 60_000; i += 1) {
    now += 5;
    recent.record(i % 10, 100);
  }
  const full = recent.summary();
  assert.equal(full.objects, 60_000);
  assert.equal(full.bytes, 6_000_000);
  assert.equal(full.windowSeconds, 300);
  assert.equal(full.lagP50Seconds, 4);
  assert.equal(full.lagP99Seconds, 9);
  // A minute later the first minute's landings have left the window (counted in whole seconds).
  now += 60_000;
  const later = recent.summary();
  assert.equal(later.objects, 48_001);
  assert.equal(later.bytes, 4_800_100);
  // Nothing for a whole window: nothing counted, no lag.
  now += 300_000;
  assert.deepEqual(recent.summary(), { windowSeconds: 300, objects: 0, bytes: 0, lagP50Seconds: null, lagP99Seconds: null });
});
