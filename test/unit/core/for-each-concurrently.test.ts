import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { test } from 'node:test';

import { forEachConcurrently } from '../../../src/core/for-each-concurrently.js';

test('runs every item, never more than `concurrency` at once', async () => {
  let running = 0;
  let most = 0;
  const seen: number[] = [];
  await forEachConcurrently([...Array(20).keys()], 3, async (item, index) => {
    assert.equal(item, index);
    running += 1;
    most = Math.max(most, running);
    await tick();
    seen.push(item);
    running -= 1;
  });
  assert.equal(most, 3);
  assert.deepEqual(
    seen.sort((a, b) => a - b),
    [...Array(20).keys()],
  );
});

test('after a failure nothing new starts, the started items settle, then the first failure is thrown', async () => {
  const started: number[] = [];
  const settled: number[] = [];
  await assert.rejects(
    forEachConcurrently([0, 1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      started.push(item);
      await tick();
      if (item === 1) throw new Error('first');
      if (item === 2) throw new Error('second');
      await tick();
      settled.push(item);
    }),
    /first/,
  );
  assert.deepEqual(started, [0, 1, 2]);
  assert.deepEqual(settled, [0]);
});

test('no items: nothing runs', async () => {
  await forEachConcurrently([], 4, async () => assert.fail('ran'));
});
