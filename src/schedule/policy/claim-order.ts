/**
 * Claim order: strict by priority class, with ageing so that lower classes are never starved
 * forever. The journal stores each runnable object's sort key and claims the lowest first.
 */

/** One step of ageing: an object waiting this long counts as one priority class higher. */
export const AGEING_STEP_MS = 10 * 60_000;

/** Claim order: lower first. Strict by class, but waiting time slowly lifts lower classes. */
export function sortKey(priorityRank: number, queuedAtMs: number): number {
  return queuedAtMs + priorityRank * AGEING_STEP_MS;
}
