import assert from 'node:assert/strict';
import { test } from 'node:test';

import { inTimeWindow, parseTimeWindow, type TimeWindow } from '../../../src/core/time-window.js';

function window(text: string): TimeWindow {
  const parsed = parseTimeWindow(text);
  assert.ok(typeof parsed !== 'string', `${text}: ${typeof parsed === 'string' ? parsed : ''}`);
  return parsed;
}

/** 2026-12-07 is a Monday; `day` 0..6 from there (local time). */
const at = (day: number, hours: number, minutes = 0) => new Date(2026, 11, 7 + day, hours, minutes);

test('day ranges, lists and wrap-around ranges name the days a window starts on', () => {
  assert.deepEqual(window('Mon-Fri').days, [false, true, true, true, true, true, false]);
  assert.deepEqual(window('sat,SUN').days, [true, false, false, false, false, false, true]);
  assert.deepEqual(window('Fri-Mon 20:00-24:00').days, [true, true, false, false, false, true, true]);
  assert.deepEqual(window('Mon, Wed-Thu').days, [false, true, false, true, true, false, false]);
  assert.deepEqual(window('22:00-06:00').days, [true, true, true, true, true, true, true]);
});

test('a window holds from its start to its end; across midnight it runs on into the next morning', () => {
  const office = window('Mon-Fri 08:00-18:00');
  assert.equal(inTimeWindow(office, at(0, 8)), true, 'Monday 08:00 is in');
  assert.equal(inTimeWindow(office, at(0, 17, 59)), true);
  assert.equal(inTimeWindow(office, at(0, 18)), false, 'the end is not in');
  assert.equal(inTimeWindow(office, at(0, 7, 59)), false);
  assert.equal(inTimeWindow(office, at(5, 12)), false, 'Saturday');

  const night = window('Fri 22:00-06:00');
  assert.equal(inTimeWindow(night, at(4, 23)), true, 'Friday 23:00');
  assert.equal(inTimeWindow(night, at(5, 5, 59)), true, 'Saturday 05:59 is the same night');
  assert.equal(inTimeWindow(night, at(5, 6)), false);
  assert.equal(inTimeWindow(night, at(5, 23)), false, 'Saturday night did not start on a listed day');
  assert.equal(inTimeWindow(night, at(4, 3)), false, 'Friday early morning belongs to Thursday night');

  const weekend = window('Sat,Sun');
  assert.equal(inTimeWindow(weekend, at(5, 0)), true);
  assert.equal(inTimeWindow(weekend, at(6, 23, 59)), true);
  assert.equal(inTimeWindow(weekend, at(0, 0)), false);
  assert.equal(inTimeWindow(window('Mon 00:00-24:00'), at(0, 23, 59)), true);
});

test('a malformed window says what is wrong with it', () => {
  const problem = (text: string) => {
    const parsed = parseTimeWindow(text);
    assert.equal(typeof parsed, 'string', text);
    return parsed as string;
  };
  assert.match(problem('Mon-Fri 18:00-18:00'), /starts where it ends/);
  assert.match(problem('Mon-Fro'), /"Mon-Fro" is not a day/);
  assert.match(problem('Mon 8:00-25:00'), /is not a time range/);
  assert.match(problem('Mon Tue Wed'), /expected days, hours or both/);
});
