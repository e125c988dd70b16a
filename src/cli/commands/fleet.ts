/**
 * `tributary fleet`: one row per site from the heartbeats in the core bucket (read access to the
 * core only). Exit 1 when any site is not healthy, so cron and alerting can use it.
 */
import { formatBytes, formatDuration } from '../../core/units.js';
import { readFleet } from '../../fleet/read-fleet.js';
import { SITES_PREFIX } from '../../fleet/read-heartbeats.js';
import type { SiteRow } from '../../fleet/site-status.js';
import { EXIT, loadFleetConfigOrFail, type Output } from '../context.js';

const seconds = (value: number | null) => (value === null ? '-' : formatDuration(value * 1000));

export async function fleet(file: string, json: boolean, output: Output, signal: AbortSignal): Promise<number> {
  const config = loadFleetConfigOrFail(file);
  const rows: SiteRow[] = await readFleet(config, signal);
  const unhealthy = rows.filter((row) => row.status !== 'healthy').length;
  if (json) {
    output.out(JSON.stringify({ bucket: config.core.bucket, sites: rows, unhealthy }, null, 2));
  } else if (rows.length === 0) {
    output.out(`no heartbeats under s3://${config.core.bucket}/${SITES_PREFIX}`);
  } else {
    const header = ['SITE', 'STATUS', 'BACKLOG', 'BYTES', 'OLDEST PENDING', 'LAG P99', 'THROUGHPUT', 'LAST SEEN', 'NOTE'];
    const table = rows.map((r) => [
      r.site,
      r.status,
      r.backlogObjects === null ? '-' : String(r.backlogObjects),
      r.backlogBytes === null ? '-' : formatBytes(r.backlogBytes),
      seconds(r.oldestPendingSeconds),
      seconds(r.lagP99Seconds),
      r.objectsPerSecond === null ? '-' : `${r.objectsPerSecond.toFixed(1)}/s ${formatBytes(r.bytesPerSecond ?? 0)}/s`,
      r.lastSeenSecondsAgo === null ? '-' : `${seconds(r.lastSeenSecondsAgo)} ago`,
      r.reason,
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
    for (const row of [header, ...table])
      output.out(
        row
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      );
    output.out(`\n${rows.length} sites, ${rows.length - unhealthy} healthy, ${unhealthy} not`);
  }
  return unhealthy === 0 ? EXIT.ok : EXIT.incomplete;
}
