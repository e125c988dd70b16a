/**
 * The record of endpoint outages (the circuit breaker's open periods): the one in progress and the
 * last that ended, for /metrics and the heartbeat. Outages are rare: a constant amount of memory.
 */
import type { Clock } from '../ports/clock.js';

import type { Side } from '../core/side.js';

export type { Side };

export interface Outage {
  readonly side: Side;
  readonly startedAt: number;
  readonly endedAt?: number;
}

export interface OutageLog {
  opened(side: Side): void;
  closed(side: Side): void;
  current(): Outage | undefined;
  last(): Outage | undefined;
  /** Completed outages and their total seconds, per side. */
  totals(side: Side): { readonly count: number; readonly seconds: number };
}

export function createOutageLog(clock: Clock): OutageLog {
  let current: Outage | undefined;
  let last: Outage | undefined;
  const totals: Record<Side, { count: number; seconds: number }> = { edge: { count: 0, seconds: 0 }, core: { count: 0, seconds: 0 } };
  return {
    opened(side) {
      current = { side, startedAt: clock.now() };
    },
    closed(side) {
      if (current === undefined) return;
      const ended = { side, startedAt: current.startedAt, endedAt: clock.now() };
      totals[side].count += 1;
      totals[side].seconds += (ended.endedAt - ended.startedAt) / 1000;
      last = ended;
      current = undefined;
    },
    current: () => current,
    last: () => last,
    totals: (side) => ({ ...totals[side] }),
  };
}
