/**
 * The record of endpoint outages (the periods the endpoint health record held a side for
 * unreachable): the ones in progress and the last that ended, for /metrics and the heartbeat.
 * Outages are rare: a constant amount of memory.
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
  /** `side` became unreachable, at `startedAt` (default now). */
  opened(side: Side, startedAt?: number): void;
  closed(side: Side): void;
  /** The outage in progress on `side`; without a side, the one that started first. */
  current(side?: Side): Outage | undefined;
  last(): Outage | undefined;
  /** Completed outages and their total seconds, per side. */
  totals(side: Side): { readonly count: number; readonly seconds: number };
}

export function createOutageLog(clock: Clock): OutageLog {
  const current: Record<Side, Outage | undefined> = { edge: undefined, core: undefined };
  let last: Outage | undefined;
  const totals: Record<Side, { count: number; seconds: number }> = { edge: { count: 0, seconds: 0 }, core: { count: 0, seconds: 0 } };
  return {
    opened(side, startedAt) {
      current[side] ??= { side, startedAt: startedAt ?? clock.now() };
    },
    closed(side) {
      const open = current[side];
      if (open === undefined) return;
      const ended = { side, startedAt: open.startedAt, endedAt: Math.max(open.startedAt, clock.now()) };
      totals[side].count += 1;
      totals[side].seconds += (ended.endedAt - ended.startedAt) / 1000;
      last = ended;
      current[side] = undefined;
    },
    current(side) {
      if (side !== undefined) return current[side];
      const { edge, core } = current;
      if (edge === undefined || core === undefined) return edge ?? core;
      return core.startedAt < edge.startedAt ? core : edge;
    },
    last: () => last,
    totals: (side) => ({ ...totals[side] }),
  };
}
