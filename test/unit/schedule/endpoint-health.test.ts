/**
 * The endpoint health record's state machine on a fake clock: two failures in a row mark a side
 * unreachable (since the first), one success clears it, the circuit breaker marks it at once, and
 * probes are due when nothing was heard for an interval (a second one soon after a first failure).
 * Then `watch` against a real probe function, and the circuit breaker it is fed by.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { TributaryError } from '../../../src/core/errors.js';
import type { Side } from '../../../src/core/side.js';
import { createCircuitBreaker } from '../../../src/schedule/circuit-breaker.js';
import {
  createEndpointHealth,
  probeTimingFor,
  type EndpointHealthRecord,
  type ProbeTiming,
} from '../../../src/schedule/endpoint-health.js';
import { mapS3Error } from '../../../src/s3/map-error.js';
import { FakeClock, sdkError } from '../../helpers/fakes.js';
import { waitFor } from '../../helpers/wait.js';

const TIMING: ProbeTiming = { intervalMs: 10_000, retryMs: 1000, timeoutMs: 8000 };

function setup() {
  const clock = new FakeClock();
  const health = createEndpointHealth(clock);
  const changes: [Side, Pick<EndpointHealthRecord, 'reachable' | 'reason'>][] = [];
  let checks = 0;
  health.subscribe((side, record, changed) => {
    checks += 1;
    if (changed) changes.push([side, { reachable: record.reachable, reason: record.reason }]);
  });
  return { clock, health, changes, checks: () => checks };
}

test('two failures in a row mark a side unreachable, since the first; one success clears it', () => {
  const { clock, health, changes } = setup();
  const start = clock.now();
  assert.deepEqual(health.state('edge'), { reachable: true, since: start, reason: undefined, detail: undefined, checkedAt: start });

  clock.advance(10_000);
  health.recordFailure('edge', 'refused', 'connect ECONNREFUSED 127.0.0.1:9000');
  assert.equal(health.isReachable('edge'), true, 'one failure is not an outage');
  assert.equal(health.state('edge').checkedAt, start + 10_000);
  clock.advance(1500);
  health.recordFailure('edge', 'refused', 'connect ECONNREFUSED 127.0.0.1:9000 (again)');
  assert.deepEqual(health.state('edge'), {
    reachable: false,
    since: start + 10_000,
    reason: 'refused',
    detail: 'connect ECONNREFUSED 127.0.0.1:9000 (again)',
    checkedAt: start + 11_500,
  });
  assert.equal(health.isReachable('core'), true, 'the other side is its own');
  assert.deepEqual(changes, [['edge', { reachable: false, reason: 'refused' }]]);

  // Still down, for the same reason: checked, not changed. Another reason is a change.
  clock.advance(10_000);
  health.recordFailure('edge', 'refused', 'x');
  assert.equal(changes.length, 1);
  health.recordFailure('edge', 'auth', 'the edge rejected the credentials (InvalidAccessKeyId)');
  assert.deepEqual(changes.at(-1), ['edge', { reachable: false, reason: 'auth' }]);
  assert.equal(health.state('edge').since, start + 10_000, 'the outage keeps its start');

  clock.advance(5000);
  health.recordSuccess('edge');
  assert.deepEqual(health.state('edge'), {
    reachable: true,
    since: start + 26_500,
    reason: undefined,
    detail: undefined,
    checkedAt: start + 26_500,
  });
  assert.deepEqual(changes.at(-1), ['edge', { reachable: true, reason: undefined }]);
});

test('a success between two failures: the streak starts over', () => {
  const { clock, health, changes } = setup();
  health.recordFailure('core', 'timeout', 'x');
  clock.advance(1000);
  health.recordSuccess('core');
  clock.advance(1000);
  health.recordFailure('core', 'timeout', 'y');
  assert.equal(health.isReachable('core'), true);
  assert.deepEqual(changes, []);
});

test('the circuit breaker marks a side unreachable at once; errors are sorted into failures, answers and nothing', () => {
  const { clock, health, changes, checks } = setup();
  health.markUnreachable('core', 'auth', 'core PUT x: the core rejected the credentials');
  assert.deepEqual(changes, [['core', { reachable: false, reason: 'auth' }]]);
  assert.equal(health.state('core').since, clock.now());

  // An answer about one object (a missing key, a throttle) proves the endpoint answers.
  health.recordError('core', mapS3Error(sdkError.slowDown(), 'core', 'PUT x'));
  assert.equal(health.isReachable('core'), true);
  // An outage error counts for the side it names.
  health.recordError('edge', mapS3Error(sdkError.network(), 'edge', 'LIST'));
  health.recordError('edge', mapS3Error(sdkError.network(), 'edge', 'LIST'));
  assert.deepEqual(changes.at(-1), ['edge', { reachable: false, reason: 'refused' }]);
  // A cancellation or an error of this machine says nothing about the endpoint.
  const before = checks();
  health.recordError('edge', new TributaryError('TRIB_ERR_CANCELLED', 'shutdown'));
  health.recordError('edge', new TributaryError('TRIB_ERR_JOURNAL_FAILED', 'disk full'));
  health.recordError('edge', new Error('a bug'));
  assert.equal(checks(), before);
  assert.equal(health.isReachable('edge'), false);
});

test('probes are due after an interval without news, 1 s after a first failure, every interval while down', () => {
  const { clock, health } = setup();
  assert.equal(health.probeDueIn('edge', TIMING), 10_000);
  clock.advance(4000);
  health.recordSuccess('edge'); // a landing, a scan page: news
  assert.equal(health.probeDueIn('edge', TIMING), 10_000);
  clock.advance(10_000);
  assert.equal(health.probeDueIn('edge', TIMING), 0, 'due now');
  health.recordFailure('edge', 'timeout', 'no answer');
  assert.equal(health.probeDueIn('edge', TIMING), 1000, 'the confirming probe follows soon');
  clock.advance(1000);
  health.recordFailure('edge', 'timeout', 'no answer');
  assert.equal(health.isReachable('edge'), false);
  assert.equal(health.probeDueIn('edge', TIMING), 10_000, 'while down: every interval');
});

test('probe timing: an edge that fails at once within one scan interval, any outage within 30 s', () => {
  assert.deepEqual(probeTimingFor(60_000), { intervalMs: 10_000, retryMs: 1000, timeoutMs: 8000 });
  assert.deepEqual(probeTimingFor(2000), { intervalMs: 1000, retryMs: 1000, timeoutMs: 2000 });
  assert.deepEqual(probeTimingFor(3_600_000), { intervalMs: 10_000, retryMs: 1000, timeoutMs: 8000 });
  for (const scanInterval of [1000, 2000, 5000, 20_000, 60_000, 300_000, 86_400_000]) {
    const t = probeTimingFor(scanInterval);
    // The last news just before the outage; a probe one interval later, and one to confirm it.
    const failsAtOnce = t.intervalMs + t.retryMs;
    const silent = t.intervalMs + t.timeoutMs + t.retryMs + t.timeoutMs;
    assert.ok(failsAtOnce <= Math.min(30_000, Math.max(scanInterval, 1000)), `${scanInterval}: ${failsAtOnce}`);
    assert.ok(silent < 30_000, `${scanInterval}: ${silent}`);
  }
});

test('watch: probes when due, marks the side down after two failures and up again on the first success', async (t) => {
  const health = createEndpointHealth({ now: () => Date.now() });
  let down: TributaryError | undefined;
  let probes = 0;
  const stop = new AbortController();
  t.after(() => stop.abort());
  const watching = health.watch(
    'edge',
    async () => {
      probes += 1;
      if (down) throw down;
    },
    { intervalMs: 50, retryMs: 20, timeoutMs: 200 },
    stop.signal,
  );
  await waitFor('a first probe', () => probes > 0, 5000);
  down = mapS3Error(sdkError.network(), 'edge', 'LIST edge/');
  await waitFor('the edge marked down', () => !health.isReachable('edge'), 5000);
  assert.equal(health.state('edge').reason, 'refused');
  down = undefined;
  await waitFor('the edge up again', () => health.isReachable('edge'), 5000);
  stop.abort();
  await watching;
});

test('watch: a probe with no answer in time is a timeout', async (t) => {
  const health = createEndpointHealth({ now: () => Date.now() });
  const stop = new AbortController();
  t.after(() => stop.abort());
  const watching = health.watch(
    'edge',
    (signal) => sleep(60_000, undefined, { signal }),
    { intervalMs: 20, retryMs: 20, timeoutMs: 50 },
    stop.signal,
  );
  await waitFor('the edge marked down', () => !health.isReachable('edge'), 5000);
  assert.equal(health.state('edge').reason, 'timeout');
  assert.match(health.state('edge').detail ?? '', /no answer to a probe within 0\.05s/);
  stop.abort();
  await watching;
});

test('circuit breaker: opens with the reason of the failure that opened it; a success from elsewhere ends its probing at once', async () => {
  const clock = new FakeClock();
  const events: unknown[][] = [];
  const breaker = createCircuitBreaker({
    threshold: 3,
    clock,
    probeBaseMs: 60_000, // a probe would wait a minute: only the close ends the wait
    probe: () => Promise.reject(new Error('still down')),
    onChange: (...args) => events.push(args),
  });
  breaker.recordUnreachable('edge', 'refused', 'a');
  breaker.recordUnreachable('edge', 'refused', 'b');
  assert.equal(breaker.isOpen, false);
  breaker.recordUnreachable('edge', 'auth', 'c');
  assert.deepEqual(events, [[true, 'edge', 'auth', 'c']]);
  const probing = breaker.probeUntilClosed(new AbortController().signal);
  await sleep(20);
  breaker.recordSuccess();
  await probing; // resolves now, not after the minute
  assert.deepEqual(events.at(-1), [false, 'edge', undefined, undefined]);
  assert.equal(breaker.isOpen, false);
});
