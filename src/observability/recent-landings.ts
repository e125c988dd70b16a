/**
 * The landings of the last few minutes, for the heartbeat's lag percentiles and throughput. A
 * ring of at most `capacity` entries: memory stays bounded whatever the rate.
 */
import type { Clock } from '../ports/clock.js';

export interface RecentSummary {
  readonly windowSeconds: number;
  readonly objects: number;
  readonly bytes: number;
  readonly lagP50Seconds: number | null;
  readonly lagP99Seconds: number | null;
}

export interface RecentLandings {
  record(lagSeconds: number, bytes: number): void;
  summary(): RecentSummary;
}

export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export function createRecentLandings(clock: Clock, windowMs = 5 * 60_000, capacity = 20_000): RecentLandings {
  const at = new Float64Array(capacity);
  const lag = new Float64Array(capacity);
  const size = new Float64Array(capacity);
  let next = 0;
  let count = 0;
  return {
    record(lagSeconds, bytes) {
      at[next] = clock.now();
      lag[next] = lagSeconds;
      size[next] = bytes;
      next = (next + 1) % capacity;
      count = Math.min(count + 1, capacity);
    },
    summary() {
      const since = clock.now() - windowMs;
      const lags: number[] = [];
      let bytes = 0;
      for (let i = 0; i < count; i += 1) {
        if (at[i]! < since) continue;
        lags.push(lag[i]!);
        bytes += size[i]!;
      }
      lags.sort((a, b) => a - b);
      return {
        windowSeconds: windowMs / 1000,
        objects: lags.length,
        bytes,
        lagP50Seconds: percentile(lags, 50),
        lagP99Seconds: percentile(lags, 99),
      };
    },
  };
}
