/**
 * `tributary status`: the local view of one agent, read from its journal: backlog by state and
 * priority (objects and bytes), the oldest pending age, and the latest errors.
 */
import { PRIORITY_NAMES, priorityName } from '../../core/object-state.js';
import { formatBytes, formatDuration } from '../../core/units.js';
import { openJournal } from '../../journal/sqlite-journal.js';
import { systemClock } from '../../ports/clock.js';
import type { BacklogRow, Journal } from '../../ports/journal.js';
import { EXIT, loadConfigOrFail, type Output } from '../context.js';

export interface BacklogSummary {
  readonly pendingObjects: number;
  readonly pendingBytes: number;
  readonly failedObjects: number;
  readonly deadObjects: number;
}

export function summarizeBacklog(rows: readonly BacklogRow[]): BacklogSummary {
  let pendingObjects = 0;
  let pendingBytes = 0;
  let failedObjects = 0;
  let deadObjects = 0;
  for (const row of rows) {
    if (row.state === 'dead') deadObjects += row.objects;
    else if (row.state === 'failed') failedObjects += row.objects;
    else {
      pendingObjects += row.objects;
      pendingBytes += row.bytes;
    }
    if (row.state === 'failed') pendingBytes += row.bytes;
  }
  return { pendingObjects, pendingBytes, failedObjects, deadObjects };
}

export interface StatusReport {
  readonly site: string;
  readonly backlog: readonly { state: string; priority: string; objects: number; bytes: number }[];
  readonly totals: BacklogSummary;
  readonly oldestPendingAgeSeconds: number | null;
  readonly recentErrors: readonly { bucket: string; key: string; state: string; attempts: number; code: string | null; error: string | null }[];
}

export function buildStatus(site: string, journal: Journal, now: number): StatusReport {
  const rows = journal.backlog();
  const oldest = journal.oldestPendingSince();
  return {
    site,
    backlog: rows.map((r) => ({ state: r.state, priority: priorityName(r.priority), objects: r.objects, bytes: r.bytes })),
    totals: summarizeBacklog(rows),
    oldestPendingAgeSeconds: oldest === undefined ? null : Math.max(0, (now - oldest) / 1000),
    recentErrors: journal.recentErrors(10).map((o) => ({
      bucket: o.bucket,
      key: o.key,
      state: o.state,
      attempts: o.attempts,
      code: o.lastErrorCode,
      error: o.lastError,
    })),
  };
}

export function status(file: string, json: boolean, output: Output): number {
  const config = loadConfigOrFail(file);
  const journal = openJournal(config.journal, systemClock);
  try {
    const report = buildStatus(config.site, journal, Date.now());
    if (json) {
      output.out(JSON.stringify(report, null, 2));
      return EXIT.ok;
    }
    output.out(`site ${report.site}`);
    const t = report.totals;
    output.out(
      `backlog: ${t.pendingObjects} objects pending (${formatBytes(t.pendingBytes)}), ${t.failedObjects} failed, ${t.deadObjects} dead; ` +
        `oldest pending ${report.oldestPendingAgeSeconds === null ? '-' : formatDuration(report.oldestPendingAgeSeconds * 1000)}`,
    );
    if (report.backlog.length > 0) {
      output.out('');
      output.out(`${'state'.padEnd(14)}${'priority'.padEnd(10)}${'objects'.padStart(10)}${'bytes'.padStart(14)}`);
      const order = new Map(PRIORITY_NAMES.map((p, i) => [p as string, i]));
      for (const row of [...report.backlog].sort((a, b) => a.state.localeCompare(b.state) || (order.get(a.priority)! - order.get(b.priority)!))) {
        output.out(`${row.state.padEnd(14)}${row.priority.padEnd(10)}${String(row.objects).padStart(10)}${formatBytes(row.bytes).padStart(14)}`);
      }
    }
    if (report.recentErrors.length > 0) {
      output.out('');
      output.out('latest errors:');
      for (const e of report.recentErrors) {
        output.out(`  ${e.state.padEnd(7)} ${e.bucket}/${e.key} (attempts ${e.attempts}) ${e.code ?? ''}: ${e.error ?? ''}`);
      }
    }
    return EXIT.ok;
  } finally {
    journal.close();
  }
}
