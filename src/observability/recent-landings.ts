/**
 * The landings of the last few minutes, for the heartbeat's throughput and lag percentiles, in
 * constant memory whatever the rate: objects and bytes are counted exactly, per whole second of
 * the window; lag samples are kept in a ring of `lagSamples` (the most recent ones: at more than
 * `lagSamples` landings in the window, the percentiles are those of the latest landings).
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

export function createRecentLandings(clock: Clock, windowMs = 5 * 60_000, lagSamples = 20_000): RecentLandings {
  // One slot more than the window's seconds: the second under way never reuses one still counted.
  const seconds = Math.ceil(windowMs / 1000) + 1;
  // Per second of the window: which second a slot holds now, and what landed in it.
  const slotSecond = new Float64Array(seconds).fill(-1);
  const slotObjects = new Float64Array(seconds);
  const slotBytes = new Float64Array(seconds);
  const lagAt = new Float64Array(lagSamples);
  const lag = new Float64Array(lagSamples);
  let next = 0;
  let count = 0;
  return {
    record(lagSeconds, bytes) {
      const now = clock.now();
      const second = Math.floor(now / 1000);
      const slot = second % seconds;
      if (slotSecond[slot] !== second) {
        slotSecond[slot] = second;
        slotObjects[slot] = 0;
        slotBytes[slot] = 0;
      }
      slotObjects[slot]! += 1;
      slotBytes[slot]! += bytes;
      lagAt[next] = now;
      lag[next] = lagSeconds;
      next = (next + 1) % lagSamples;
      count = Math.min(count + 1, lagSamples);
    },
    summary() {
      const now = clock.now();
      const since = now - windowMs;
      const oldestSecond = Math.floor(since / 1000);
      let objects = 0;
      let bytes = 0;
      for (let slot = 0; slot < seconds; slot += 1) {
        if (slotSecond[slot]! < oldestSecond) continue;
        objects += slotObjects[slot]!;
        bytes += slotBytes[slot]!;
      }
      const lags: number[] = [];
      for (let i = 0; i < count; i += 1) if (lagAt[i]! >= since) lags.push(lag[i]!);
      lags.sort((a, b) => a - b);
      return {
        windowSeconds: windowMs / 1000,
        objects,
        bytes,
        lagP50Seconds: percentile(lags, 50),
        lagP99Seconds: percentile(lags, 99),
      };
    },
  };
}
