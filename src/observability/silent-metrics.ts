/**
 * Metrics nobody reads: `sync --once` and `verify` report through their own output, and do not
 * pay for loading prom-client and collecting process metrics.
 */
import type { MetricsSink } from './metrics.js';

export const silentMetrics: MetricsSink = {
  hooks: {},
  bytesSent: () => undefined,
  setReachable: () => undefined,
  countEvents: () => undefined,
  countRetention: () => undefined,
};
