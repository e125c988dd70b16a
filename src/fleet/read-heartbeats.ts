/**
 * Reads every site's heartbeat from the core bucket: ListObjectsV2 pages under
 * `_tributary/sites/` (a thousand sites per request), then GETs with bounded concurrency. Needs
 * only read access to the core bucket.
 */
import { forEachConcurrently } from '../core/for-each-concurrently.js';
import { coerceError } from '../core/errors.js';
import type { HeartbeatV1 } from '../report/heartbeat.js';
import { HEARTBEAT_SCHEMA } from '../report/heartbeat.js';
import type { S3Endpoint } from '../s3/endpoint.js';
import { mapS3Error } from '../s3/map-error.js';
import { listPage } from '../s3/list-page.js';

export const SITES_PREFIX = '_tributary/sites/';
const HEARTBEAT_KEY = /^_tributary\/sites\/([a-z0-9-]+)\/heartbeat\.json$/;

export interface SiteHeartbeat {
  readonly site: string;
  readonly heartbeat: HeartbeatV1 | undefined;
  /** Why the heartbeat could not be used, when it could not. */
  readonly problem?: string;
}

function isHeartbeat(value: unknown): value is HeartbeatV1 {
  const v = value as Partial<HeartbeatV1> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    v.schema === HEARTBEAT_SCHEMA &&
    typeof v.writtenAt === 'string' &&
    typeof v.intervalSeconds === 'number' &&
    typeof v.backlog === 'object' &&
    typeof v.lag === 'object' &&
    typeof v.throughput === 'object'
  );
}

export async function listSites(endpoint: S3Endpoint, bucket: string, signal?: AbortSignal): Promise<string[]> {
  const sites: string[] = [];
  let startAfter: string | undefined;
  for (;;) {
    const listing = await listPage(endpoint, 'core', { bucket, prefix: SITES_PREFIX, startAfter, signal });
    for (const object of listing.objects) {
      const match = HEARTBEAT_KEY.exec(object.key);
      if (match) sites.push(match[1]!);
    }
    const last = listing.objects.at(-1);
    if (!listing.isTruncated || last === undefined) return sites;
    startAfter = last.key;
  }
}

export async function readHeartbeats(
  endpoint: S3Endpoint,
  bucket: string,
  concurrency: number,
  signal?: AbortSignal,
): Promise<SiteHeartbeat[]> {
  const sites = await listSites(endpoint, bucket, signal);
  const results = new Array<SiteHeartbeat>(sites.length);
  await forEachConcurrently(sites, concurrency, async (site, index) => {
    try {
      const response = await endpoint.http.send({ method: 'GET', bucket, key: `${SITES_PREFIX}${site}/heartbeat.json`, signal });
      const parsed: unknown = JSON.parse(await response.body.text());
      results[index] = isHeartbeat(parsed)
        ? { site, heartbeat: parsed }
        : { site, heartbeat: undefined, problem: 'heartbeat of an unknown shape' };
    } catch (error) {
      const err = error instanceof SyntaxError ? error : coerceError(mapS3Error(error, 'core', `GET heartbeat of ${site}`));
      results[index] = { site, heartbeat: undefined, problem: `heartbeat unreadable: ${err.message}` };
    }
  });
  return results;
}
