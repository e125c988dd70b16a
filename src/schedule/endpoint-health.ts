/**
 * The one record of whether each endpoint (edge, core) serves us: everything that shows
 * reachability reads it (the `tributary_*_reachable` gauges, the outage log, the heartbeat,
 * /readyz, the journal row `status` prints). It is fed by whatever talks to the endpoints:
 *
 *   - transfers, through the circuit breaker: it opens (unreachable at once, the breaker already
 *     counted its failures) and closes; a landing is a success of both sides;
 *   - every scan's outcome and every heartbeat written;
 *   - its own probes (`watch`): when nothing has been heard from an endpoint for `intervalMs`,
 *     one cheap request with a timeout of its own, so an idle agent notices an outage too.
 *
 * Per side, a state machine:
 *
 *   reachable --failure--> reachable, 1 failure --failure (the probe ~1 s later)--> UNREACHABLE
 *       ^                        |                                                      |
 *       +-------success----------+<---------------------- success ---------------------+
 *   reachable --circuit breaker opens--> UNREACHABLE
 *
 * Unreachable since the first failure of the streak, with the reason and message of the latest
 * (a reason that changes while it lasts, `refused` then `auth`, is a change too). Only failures
 * that say the endpoint does not serve us count (core/errors.ts `outageOf`): any other answer,
 * even an error about one object, proves it answers. Memory is constant: two records.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { coerceError, outageOf, type OutageReason, type TributaryError } from '../core/errors.js';
import type { Side } from '../core/side.js';
import type { Clock } from '../ports/clock.js';
import type { EndpointHealthRecord } from '../ports/journal.js';

export type { EndpointHealthRecord };

/** Failures in a row that mark an endpoint unreachable (a second probe confirms the first). */
export const FAILURES_TO_MARK = 2;

/**
 * How often `watch` probes. `intervalMs`: after this long without hearing from the endpoint (and
 * this often while it is unreachable); `retryMs`: the probe that confirms a first failure;
 * `timeoutMs`: a probe not answered by then failed (`timeout`).
 */
export interface ProbeTiming {
  readonly intervalMs: number;
  readonly retryMs: number;
  readonly timeoutMs: number;
}

/**
 * The timing the agent uses for a scan interval: heard from at least every min(10 s, interval / 2),
 * and a first failure confirmed min(1 s, that) later. An edge that answers at once with a failure
 * (refused, 5xx, credentials) is marked within one scan interval, and any outage within 30 s: an
 * edge that does not answer at all costs two probe timeouts more (10 + 8 + 1 + 8 s at most).
 */
export function probeTimingFor(scanIntervalMs: number): ProbeTiming {
  const intervalMs = Math.max(500, Math.min(10_000, scanIntervalMs / 2));
  return { intervalMs, retryMs: Math.min(1000, intervalMs), timeoutMs: Math.min(8000, Math.max(2000, scanIntervalMs / 4)) };
}

/** Called on every check of a side; `changed` when it became (un)reachable or its reason changed. */
export type HealthListener = (side: Side, record: EndpointHealthRecord, changed: boolean) => void;

export interface EndpointHealth {
  state(side: Side): EndpointHealthRecord;
  isReachable(side: Side): boolean;
  /** The endpoint answered. */
  recordSuccess(side: Side): void;
  /** A request failed because the endpoint does not serve us. */
  recordFailure(side: Side, reason: OutageReason, detail: string): void;
  /**
   * The outcome of a request to `side` that failed: an outage (outageOf) is a failure of its side,
   * any other answer of the endpoint a success; cancellations and internal errors say nothing.
   */
  recordError(side: Side, error: unknown): void;
  /** The circuit breaker opened: unreachable now, whatever the count. */
  markUnreachable(side: Side, reason: OutageReason, detail: string): void;
  /** Milliseconds until `side` is due for a probe (0 or less: now). */
  probeDueIn(side: Side, timing: ProbeTiming): number;
  subscribe(listener: HealthListener): void;
  /** Probes `side` whenever it is due, until `signal` aborts (resolves then). */
  watch(side: Side, probe: (signal: AbortSignal) => Promise<void>, timing: ProbeTiming, signal: AbortSignal): Promise<void>;
}

interface SideState {
  record: EndpointHealthRecord;
  failures: number;
  firstFailureAt: number;
  lastSuccessAt: number;
}

/** Codes that only an answer of the endpoint produces: it is there, whatever it said. */
const ANSWERED = /^TRIB_ERR_(EDGE|CORE|SOURCE|LAND)_/;

export function createEndpointHealth(clock: Clock): EndpointHealth {
  const started = clock.now();
  const fresh = (): SideState => ({
    record: { reachable: true, since: started, reason: undefined, detail: undefined, checkedAt: started },
    failures: 0,
    firstFailureAt: started,
    lastSuccessAt: started,
  });
  const sides: Record<Side, SideState> = { edge: fresh(), core: fresh() };
  const listeners: HealthListener[] = [];
  const emit = (side: Side, changed: boolean) => {
    for (const listener of listeners) listener(side, sides[side].record, changed);
  };

  const recordSuccess = (side: Side) => {
    const s = sides[side];
    const now = clock.now();
    s.failures = 0;
    s.lastSuccessAt = now;
    const changed = !s.record.reachable;
    s.record = changed
      ? { reachable: true, since: now, reason: undefined, detail: undefined, checkedAt: now }
      : { ...s.record, checkedAt: now };
    emit(side, changed);
  };

  const fail = (side: Side, reason: OutageReason, detail: string, atOnce: boolean) => {
    const s = sides[side];
    const now = clock.now();
    if (s.failures === 0) s.firstFailureAt = now;
    s.failures = atOnce ? Math.max(s.failures + 1, FAILURES_TO_MARK) : s.failures + 1;
    let changed = false;
    if (!s.record.reachable) {
      changed = s.record.reason !== reason;
      s.record = { ...s.record, reason, detail, checkedAt: now };
    } else if (s.failures >= FAILURES_TO_MARK) {
      changed = true;
      s.record = { reachable: false, since: s.firstFailureAt, reason, detail, checkedAt: now };
    } else {
      s.record = { ...s.record, checkedAt: now };
    }
    emit(side, changed);
  };

  const health: EndpointHealth = {
    state: (side) => sides[side].record,
    isReachable: (side) => sides[side].record.reachable,
    recordSuccess,
    recordFailure: (side, reason, detail) => fail(side, reason, detail, false),
    recordError(side, error) {
      const err: TributaryError = coerceError(error);
      const outage = outageOf(err);
      if (outage !== undefined) fail(outage.side, outage.reason, err.message, false);
      else if (ANSWERED.test(err.code)) recordSuccess(side);
    },
    markUnreachable: (side, reason, detail) => fail(side, reason, detail, true),
    probeDueIn(side, timing) {
      const s = sides[side];
      const now = clock.now();
      if (!s.record.reachable) return s.record.checkedAt + timing.intervalMs - now;
      if (s.failures > 0) return s.record.checkedAt + timing.retryMs - now;
      return s.lastSuccessAt + timing.intervalMs - now;
    },
    subscribe(listener) {
      listeners.push(listener);
    },
    async watch(side, probe, timing, signal) {
      let lastProbe = -Infinity;
      while (!signal.aborted) {
        // At least retryMs between two probes, even after one that said nothing (cancelled).
        const wait = Math.max(health.probeDueIn(side, timing), lastProbe + timing.retryMs - clock.now());
        if (wait > 0) {
          // Re-checked at least every interval: a success heard meanwhile postpones the probe.
          await sleep(Math.min(wait, timing.intervalMs), undefined, { signal }).catch(() => undefined);
          continue;
        }
        lastProbe = clock.now();
        const timeout = AbortSignal.timeout(timing.timeoutMs);
        try {
          await probe(AbortSignal.any([signal, timeout]));
          recordSuccess(side);
        } catch (error) {
          if (signal.aborted) break;
          if (timeout.aborted) fail(side, 'timeout', `no answer to a probe within ${timing.timeoutMs / 1000}s`, false);
          else health.recordError(side, error);
        }
      }
    },
  };
  return health;
}
