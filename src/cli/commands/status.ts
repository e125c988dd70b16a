/**
 * `tributary status`: the local view of one agent (src/report/status-report.ts), as a table or
 * as JSON. Its first lines say whether each endpoint serves the agent, as the agent last
 * recorded it (with when it last checked: an agent that no longer runs checks nothing).
 */
import { PRIORITY_NAMES } from '../../core/object-state.js';
import { countOf, durationInConfigUnits, formatBytes, formatDuration } from '../../core/units.js';
import { buildStatus, type EndpointStatus } from '../../report/status-report.js';
import { edgeRetentionConfigured, openLocalJournal } from '../../agent/local-journal.js';
import { EXIT, loadConfigOrFail, requireJournal, type Output } from '../context.js';

const pad = (n: number) => String(n).padStart(2, '0');

/** A local clock time, with the date when it is not today. */
function clockTime(ms: number, now: number): string {
  const d = new Date(ms);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return d.toDateString() === new Date(now).toDateString()
    ? time
    : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

const ago = (ms: number, now: number) => `${formatDuration(Math.max(0, now - ms))} ago`;

/** `UNREACHABLE since 12:03:04 (2m10s ago): refused: <error>; last checked ...`, or `reachable; ...`. */
function endpointLine(e: EndpointStatus | null, now: number): string | undefined {
  if (e === null) return undefined;
  const checked = `last checked ${clockTime(e.checkedAt, now)} (${ago(e.checkedAt, now)})`;
  if (e.reachable) return `reachable; ${checked}`;
  return `UNREACHABLE since ${clockTime(e.since, now)} (${ago(e.since, now)}): ${e.reason ?? 'unknown'}: ${e.detail ?? ''}; ${checked}`;
}

export function status(file: string, json: boolean, output: Output): number {
  // Only the local journal is read: the S3 secrets need not be in this shell's environment.
  const config = loadConfigOrFail(file, { localOnly: true });
  requireJournal(config);
  const journal = openLocalJournal(config, 'reader');
  try {
    const edgeRetention = edgeRetentionConfigured(config);
    const report = buildStatus(config.site, journal, Date.now(), { edgeRetention });
    if (json) {
      output.out(JSON.stringify(report, null, 2));
      return EXIT.ok;
    }
    output.out(`site ${report.site}`);
    const now = Date.now();
    for (const side of ['edge', 'core'] as const) {
      const line = endpointLine(report.endpoints[side], now);
      if (line !== undefined) output.out(`${side}: ${line}`);
    }
    const t = report.totals;
    output.out(
      `backlog: ${countOf(t.pendingObjects, 'object')} pending (${formatBytes(t.pendingBytes)}), ${t.failedObjects} failed, ${t.deadObjects} dead; ` +
        `oldest pending ${report.oldestPendingAgeSeconds === null ? '-' : formatDuration(report.oldestPendingAgeSeconds * 1000)}`,
    );
    const v = report.vanished;
    output.out(
      `vanished: ${countOf(v.objects, 'object')} (${formatBytes(v.bytes)}) deleted at the edge before ${v.objects === 1 ? 'it' : 'they'} could be read (not failures, never retried)`,
    );
    for (const o of v.latest) {
      output.out(`  ${o.bucket}/${o.key}: first seen ${clockTime(o.firstSeenAt, now)}, vanished ${clockTime(o.vanishedAt, now)}`);
    }
    const f = report.forgotten;
    output.out(`forgotten: ${countOf(f.objects, 'dead object')} (${formatBytes(f.bytes)}) acknowledged with tributary forget`);
    for (const r of f.reasons) {
      const examples = r.examples.map((e) => `${e.bucket}/${e.key}${e.code === null ? '' : ` (${e.code})`}`).join(', ');
      output.out(
        `  ${countOf(r.objects, 'object')}, latest ${clockTime(r.latestAt, now)}: "${r.reason}"; ${r.objects > r.examples.length ? 'e.g. ' : ''}${examples}`,
      );
    }
    const relanded = report.relandings;
    if (relanded.repair + relanded['core-copy-missing'] > 0) {
      output.out(
        `re-landed: ${countOf(relanded.repair, 'object')} by verify --repair, ${relanded['core-copy-missing']} after edge retention found the core copy gone`,
      );
    }
    for (const w of report.landed) {
      const lag = w.lagSeconds;
      output.out(
        `landed in the last ${durationInConfigUnits(w.windowSeconds * 1000)}: ${countOf(w.objects, 'object')} (${formatBytes(w.bytes)}, ${formatBytes(w.bytesPerSecond)}/s)` +
          (lag.p50 === null
            ? ''
            : `; lag p50 ${formatDuration(lag.p50 * 1000)}, p99 ${formatDuration(lag.p99! * 1000)}, max ${formatDuration(lag.max! * 1000)}`),
      );
    }
    if (report.backlog.length > 0) {
      output.out('');
      output.out(`${'state'.padEnd(14)}${'priority'.padEnd(10)}${'objects'.padStart(10)}${'bytes'.padStart(14)}`);
      const order = new Map(PRIORITY_NAMES.map((p, i) => [p as string, i]));
      for (const row of [...report.backlog].sort(
        (a, b) => a.state.localeCompare(b.state) || order.get(a.priority)! - order.get(b.priority)!,
      )) {
        output.out(
          `${row.state.padEnd(14)}${row.priority.padEnd(10)}${String(row.objects).padStart(10)}${formatBytes(row.bytes).padStart(14)}`,
        );
      }
    }
    if (report.errorGroups.length > 0) {
      output.out('');
      output.out('latest errors (identical ones grouped):');
      for (const g of report.errorGroups) {
        const only = g.objects === 1 ? g.examples[0] : undefined;
        // One object: as it is, with its own message. Several: how many, when last, a few of them,
        // and the message they share (their keys taken out of it: `…`).
        const who =
          only === undefined
            ? `${g.objects} objects (latest ${clockTime(g.latestAt, now)}; e.g. ${g.examples.map((e) => `${e.bucket}/${e.key}`).join(', ')})`
            : `${only.bucket}/${only.key} (attempts ${only.attempts})`;
        output.out(`  ${g.state.padEnd(7)} ${who} ${g.code}: ${only === undefined ? g.message : (only.error ?? '')}`);
      }
    }
    const suspect = report.suspectCoreCopies;
    if (suspect.objects > 0) {
      output.out('');
      output.out(
        `core keys that may hold a wrong copy of ours (its DELETE failed): ${suspect.objects} ` +
          `(replaced when a version lands there; for a dead object run tributary retry)`,
      );
      for (const c of suspect.latest) output.out(`  ${c.state.padEnd(10)} ${c.bucket}/${c.key} -> ${c.coreKey}`);
    }
    const r = report.edgeRetention;
    if (r !== undefined) {
      output.out('');
      output.out(
        `edge retention: ${r.deleted} deleted from the edge (${formatBytes(r.deletedBytes)}), ${r.scheduled} scheduled, ` +
          `${r.held} held (core copy differs), ${r.kept} kept (the edge no longer holds the version that landed)`,
      );
      for (const h of r.heldObjects) output.out(`  held    ${h.bucket}/${h.key}: ${h.note}`);
    }
    return EXIT.ok;
  } finally {
    journal.close();
  }
}
