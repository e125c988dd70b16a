import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createTransferRate } from '../../../src/cli/transfer-rate.js';

const MB = 1_000_000;

test('bursts of a steady link give a steady rate, and an ETA that only ever counts down', () => {
  const rate = createTransferRate();
  const etas: number[] = [];
  // 1 MB/s arriving as one 8 MB object every 8 s: 200 MB in all.
  let done = 0;
  for (let at = 0; done < 200 * MB; at += 8000) {
    rate.add(8 * MB, at);
    done += 8 * MB;
    for (let t = at; t < at + 8000; t += 1000) {
      const eta = rate.etaMs(200 * MB - done, t);
      if (eta !== undefined) etas.push(eta);
    }
  }
  assert.ok(etas.length > 150, `${etas.length} samples`);
  for (let i = 1; i < etas.length; i += 1) {
    const step = etas[i]! - etas[i - 1]!;
    assert.ok(step <= 0, `the ETA went up by ${step} ms`);
    assert.ok(step >= -9000, `the ETA fell by ${-step} ms at once`);
  }
  assert.equal(Math.round(rate.bytesPerSecond(200_000)), MB);
});

test('a change of the link is followed within a minute; a stalled link loses its rate', () => {
  const rate = createTransferRate();
  let at = 0;
  for (; at <= 60_000; at += 1000) rate.add(MB, at);
  assert.equal(Math.round(rate.bytesPerSecond(at)), MB);
  // The link halves.
  for (; at <= 120_000; at += 1000) rate.add(MB / 2, at);
  const after = rate.bytesPerSecond(at);
  assert.ok(after > 0.45 * MB && after < 0.6 * MB, `rate ${after}`);
  // Nothing more for a minute.
  const stalled = rate.bytesPerSecond(at + 60_000);
  assert.ok(stalled < after / 10, `rate ${stalled} after a minute without a byte`);
  assert.equal(createTransferRate().etaMs(100, 0), undefined, 'no ETA before the first byte');
});
