/**
 * Prometheus metrics of the agent, on a dedicated registry. Counters and the lag histogram are
 * fed by the runner's hooks; backlog and oldest-pending gauges are read from the journal at
 * scrape time (nothing is kept in memory per object). Labels stay bounded: state, priority,
 * error code, kind — never an object key.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import { LANDING_REASONS, PRIORITY_NAMES, priorityName, SETTLED_STATES, type ObjectState } from '../core/object-state.js';
import type { Clock } from '../ports/clock.js';
import type { Journal } from '../ports/journal.js';
import type { OutageLog } from './outages.js';
import type { RunnerHooks } from '../schedule/runner.js';

/** What the pipeline reports to; silent-metrics.ts has a no-op one for one-shot commands. */
export interface MetricsSink {
  /** Runner hooks that count landings and failures. */
  readonly hooks: RunnerHooks;
  /** Bytes sent to the core (wire bytes). */
  bytesSent(bytes: number): void;
  setReachable(side: 'edge' | 'core', reachable: boolean): void;
  /** Event records received on POST /events, by what became of them. */
  countEvents(outcome: string, n: number): void;
  /** What edge retention did with one object; `bytes` deleted from the edge. */
  countRetention(outcome: string, bytes: number): void;
}

/** The Prometheus metrics the agent serves on /metrics. */
export interface AgentMetrics extends MetricsSink {
  readonly registry: Registry;
}

/** The states journal.backlog() counts: everything not landed and not given up on for good. */
const BACKLOG_STATES: readonly ObjectState[] = ['discovered', 'queued', 'transferring', 'failed', 'dead'];

export const LAG_BUCKETS_SECONDS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21_600, 86_400];

export function createAgentMetrics(journal: Journal, clock: Clock, outages?: OutageLog): AgentMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  new Gauge({
    name: 'tributary_backlog_objects',
    help: 'Objects not yet landed, by state and priority class.',
    labelNames: ['state', 'priority'],
    registers: [registry],
    // One journal query per scrape sets both backlog gauges. Every state and priority is
    // exported, 0 when empty: a series that disappears cannot be alerted on.
    collect() {
      this.reset();
      backlogBytes.reset();
      for (const state of BACKLOG_STATES) {
        for (const priority of PRIORITY_NAMES) {
          this.set({ state, priority }, 0);
          backlogBytes.set({ state, priority }, 0);
        }
      }
      for (const row of journal.backlog()) {
        const labels = { state: row.state, priority: priorityName(row.priority) };
        this.set(labels, row.objects);
        backlogBytes.set(labels, row.bytes);
      }
    },
  });
  // Registered after the objects gauge, whose collect() (run first at scrape time) fills it.
  const backlogBytes = new Gauge({
    name: 'tributary_backlog_bytes',
    help: 'Bytes of the objects not yet landed, by state and priority class.',
    labelNames: ['state', 'priority'],
    registers: [registry],
  });
  new Gauge({
    name: 'tributary_oldest_pending_age_seconds',
    help: 'Age of the oldest object seen at the edge and not yet landed (0 when none is pending).',
    registers: [registry],
    collect() {
      const since = journal.oldestPendingSince();
      this.set(since === undefined ? 0 : Math.max(0, (clock.now() - since) / 1000));
    },
  });
  new Gauge({
    name: 'tributary_objects',
    help: 'Objects that never landed and are no failure, by state: vanished (deleted at the edge before they could be read), forgotten (dead objects acknowledged by tributary forget). Read from the journal at scrape time.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const counts = journal.settledCounts();
      for (const state of SETTLED_STATES) this.set({ state }, counts[state].objects);
    },
  });
  // The journal counts landings made for a reason in the transaction of the landing, so this
  // counter holds what every process did (verify --repair, sync --once, the agent itself).
  new Counter({
    name: 'tributary_relandings_total',
    help: 'Landings made for a reason, counted in the journal whichever process made them: repair (queued by verify --repair), core-copy-missing (edge retention found the core copy gone).',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const counts = journal.relandings();
      this.reset();
      for (const reason of LANDING_REASONS) this.inc({ reason }, counts[reason]);
    },
  });
  const lag = new Histogram({
    name: 'tributary_replication_lag_seconds',
    help: 'Time from an object being first seen at the edge to landed in the core.',
    buckets: LAG_BUCKETS_SECONDS,
    registers: [registry],
  });
  const replicated = new Counter({
    name: 'tributary_replicated_objects_total',
    help: 'Landings in the core: each edge object version once, and once more each time it is landed again after its core copy went missing.',
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'tributary_bytes_total',
    help: 'Bytes replicated: logical (object sizes) and wire (sent to the core).',
    labelNames: ['kind'],
    registers: [registry],
  });
  const failures = new Counter({
    name: 'tributary_failures_total',
    help: 'Failed transfer attempts, by error code (docs/errors.md).',
    labelNames: ['code'],
    registers: [registry],
  });
  // Content dedupe (the same bytes under another key, landed by a copy in the core) has not
  // landed yet: the counter is exported, at 0, so dashboards and alerts can be written now.
  new Counter({
    name: 'tributary_dedupe_saved_bytes_total',
    help: 'Bytes not sent because content dedupe found the same bytes in the core under another key (a server-side copy landed them).',
    registers: [registry],
  });
  // Two ways the core turns out to hold a version already: a HEAD before its upload (this
  // process's count), and adoption by a new journal (the journal's count, read at scrape time).
  let adoptedBytesSeen = 0;
  const alreadyInCore = new Counter({
    name: 'tributary_already_in_core_bytes_total',
    help: 'Bytes of objects not sent because the core already held that very version at its key: how="head" found by a HEAD before the upload (a retry after a lost answer), how="adopted" proven by a new journal\'s first scan (a lost journal, a reinstalled site).',
    labelNames: ['how'],
    registers: [registry],
    collect() {
      const adopted = journal.adoptedTotals().bytes;
      if (adopted > adoptedBytesSeen) this.inc({ how: 'adopted' }, adopted - adoptedBytesSeen);
      adoptedBytesSeen = Math.max(adoptedBytesSeen, adopted);
    },
  });
  const reachable = {
    core: new Gauge({
      name: 'tributary_core_reachable',
      help: '1 when the core serves us, 0 while it is unreachable (down, credentials refused, TLS, not S3).',
      registers: [registry],
    }),
    edge: new Gauge({
      name: 'tributary_edge_reachable',
      help: '1 when the edge serves us, 0 while it is unreachable (down, credentials refused, TLS, not S3).',
      registers: [registry],
    }),
  };
  if (outages !== undefined) {
    new Gauge({
      name: 'tributary_outage_seconds',
      help: 'How long the endpoint has been unreachable so far (0 when it answers).',
      labelNames: ['side'],
      registers: [registry],
      collect() {
        for (const side of ['edge', 'core'] as const) {
          const now = outages.current(side);
          this.set({ side }, now === undefined ? 0 : Math.max(0, (clock.now() - now.startedAt) / 1000));
        }
      },
    });
    new Gauge({
      name: 'tributary_outages_total',
      help: 'Completed outages of the endpoint (periods it was held for unreachable).',
      labelNames: ['side'],
      registers: [registry],
      collect() {
        for (const side of ['edge', 'core'] as const) this.set({ side }, outages.totals(side).count);
      },
    });
    new Gauge({
      name: 'tributary_outage_seconds_total',
      help: 'Total duration of the completed outages of the endpoint.',
      labelNames: ['side'],
      registers: [registry],
      collect() {
        for (const side of ['edge', 'core'] as const) this.set({ side }, outages.totals(side).seconds);
      },
    });
  }
  const events = new Counter({
    name: 'tributary_events_total',
    help: 'Event records received, by outcome: accepted, duplicate, out_of_scope, removed_ignored, removed_propagated, other_kind.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const retention = new Counter({
    name: 'tributary_edge_retention_total',
    help: 'Objects edge retention looked at, by outcome: deleted (from the edge), held (core copy differs), kept (the edge holds another version), requeued (core copy missing), postponed (an endpoint failed).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const edgeDeletedBytes = new Counter({
    name: 'tributary_edge_deleted_bytes_total',
    help: 'Bytes edge retention deleted from the edge.',
    registers: [registry],
  });
  reachable.core.set(1);
  reachable.edge.set(1);
  bytes.inc({ kind: 'logical' }, 0);
  alreadyInCore.inc({ how: 'head' }, 0);
  alreadyInCore.inc({ how: 'adopted' }, 0);
  bytes.inc({ kind: 'wire' }, 0);

  return {
    registry,
    hooks: {
      onLanded(job, result) {
        replicated.inc();
        bytes.inc({ kind: 'logical' }, job.size);
        if (result.alreadyPresent) alreadyInCore.inc({ how: 'head' }, job.size);
        lag.observe(Math.max(0, (clock.now() - job.firstSeenAt) / 1000));
      },
      onFailed(_job, error, outcome) {
        // A vanished object is no failure: tributary_objects{state="vanished"} counts it.
        if (outcome === 'vanished') return;
        if (error.errorClass !== 'cancelled' || outcome !== 'released') failures.inc({ code: error.code });
      },
    },
    bytesSent(count) {
      bytes.inc({ kind: 'wire' }, count);
    },
    setReachable(side, up) {
      reachable[side].set(up ? 1 : 0);
    },
    countEvents(outcome, n) {
      events.inc({ outcome }, n);
    },
    countRetention(outcome, deleted) {
      retention.inc({ outcome });
      if (deleted > 0) edgeDeletedBytes.inc(deleted);
    },
  };
}
