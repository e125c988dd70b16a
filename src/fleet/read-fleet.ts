/** The fleet as the core shows it: every site's heartbeat, read and classified (one call per refresh). */
import { readCaBundle } from '../config/ca-bundle.js';
import type { FleetConfig } from '../config/schema.js';
import { createS3Endpoint } from '../s3/endpoint.js';
import { readHeartbeats } from './read-heartbeats.js';
import { classifySite, type SiteRow } from './site-status.js';

/** One row per site, sorted by site name. */
export async function readFleet(config: FleetConfig, signal?: AbortSignal): Promise<SiteRow[]> {
  const endpoint = createS3Endpoint(config.core, config.fleet.concurrency, readCaBundle(config.core, 'core.caBundle'));
  try {
    const beats = await readHeartbeats(endpoint, config.core.bucket, config.fleet.concurrency, signal);
    const now = Date.now();
    return beats
      .map((b) => classifySite(b.site, b.heartbeat, now, config.fleet.lagThreshold, b.problem))
      .sort((a, b) => a.site.localeCompare(b.site));
  } finally {
    await endpoint.close();
  }
}
