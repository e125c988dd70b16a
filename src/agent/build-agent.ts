/**
 * The composition root: builds every adapter from the frozen Config and wires detect -> journal
 * -> transfer. The only module that imports the concrete adapters (s3/, journal/).
 */
import { readCaBundle } from '../config/ca-bundle.js';
import { coerceError, TributaryError } from '../core/errors.js';
import { decide } from '../core/rules.js';
import type { Side } from '../core/side.js';
import type { Config } from '../config/schema.js';
import { configWarnings } from '../config/warnings.js';
import { scanAll, type ScanResult, type ScanTarget } from '../detect/scanner.js';
import { openJournal } from '../journal/open-journal.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsSink } from '../observability/metrics.js';
import { silentMetrics } from '../observability/silent-metrics.js';
import { lockJournal, type JournalLock } from './journal-lock.js';
import { createManifestWriter, type ManifestWriter } from './manifest-writer.js';
import { objectLogHooks } from './object-log.js';
import { createOutageLog, type OutageLog } from '../observability/outages.js';
import { createRecentLandings, type RecentLandings } from '../observability/recent-landings.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Journal, JournalObject } from '../ports/journal.js';
import type { LakeStore } from '../ports/lake-store.js';
import type { SourceStore } from '../ports/source-store.js';
import { createS3Endpoint, type S3Endpoint } from '../s3/endpoint.js';
import { diagnoseSilentEndpoint } from '../s3/not-s3.js';
import { createS3LakeStore } from '../s3/s3-lake-store.js';
import { createS3SourceStore } from '../s3/s3-source-store.js';
import { createCircuitBreaker, type CircuitBreaker } from '../schedule/circuit-breaker.js';
import { createEndpointHealth, type EndpointHealth } from '../schedule/endpoint-health.js';
import { createWeightedSemaphore } from '../transfer/weighted-semaphore.js';
import { createAdoption } from '../transfer/adopt.js';
import { propagateDeletions, type DeletionRound } from '../transfer/propagate-deletions.js';
import { retentionPolicy, runRetentionRound, type RetentionDeps, type RetentionRound } from '../transfer/edge-retention.js';
import { repairOne, type RepairAction, type RepairDeps, type RepairOutcome } from '../transfer/repair.js';

export type { RetentionRound, RepairAction, RepairOutcome };
import { replicateObject, type ReplicateContext } from '../transfer/replicate-object.js';
import { createRunner, type Runner, type RunnerHooks } from '../schedule/runner.js';

export interface Agent<Metrics extends MetricsSink = MetricsSink> {
  readonly config: Config;
  readonly journal: Journal;
  readonly source: SourceStore;
  readonly lake: LakeStore;
  readonly breaker: CircuitBreaker;
  readonly runner: Runner;
  readonly metrics: Metrics;
  /** Landings of the last minutes (the heartbeat's lag percentiles and throughput). */
  readonly recent: RecentLandings;
  readonly manifests: ManifestWriter;
  /** Endpoint outages: the ones in progress and the last one (metrics, heartbeat). */
  readonly outages: OutageLog;
  /** Whether each endpoint serves us: the one record every view of reachability reads. */
  readonly health: EndpointHealth;
  readonly targets: readonly ScanTarget[];
  /**
   * Checks both endpoints (each is S3 and spoken to in the right scheme, credentials accepted,
   * buckets exist) before any work.
   */
  preflight(signal?: AbortSignal): Promise<void>;
  scan(signal?: AbortSignal, onPage?: (listed: number) => void): Promise<ScanResult>;
  /** deletes: propagate — carries out pending deletions (one round at a time); a no-op otherwise. */
  propagateDeletions(signal?: AbortSignal): Promise<DeletionRound>;
  /**
   * Edge retention — deletes the edge copies whose period has passed (one round at a time);
   * undefined when retention is not configured.
   */
  expireEdgeObjects(signal?: AbortSignal): Promise<RetentionRound | undefined>;
  /** Whether any edge object may ever be deleted (a retention period is configured). */
  readonly retentionEnabled: boolean;
  /**
   * `verify --repair`: queues what verify found missing or different to land as a repair (or
   * adopts what the core is proven to hold); the runner lands it. Needs the journal's lock.
   */
  repair(action: RepairAction, signal?: AbortSignal): Promise<RepairOutcome>;
  /** Closes the journal and the endpoints' connection pools (once; later calls wait for it). */
  close(): Promise<void>;
}

export interface AgentDependencies<Metrics extends MetricsSink = MetricsSink> {
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly hooks?: RunnerHooks;
  /** Logical bytes as they reach the core (progress, rates). */
  readonly onBytesSent?: (bytes: number) => void;
  /** Builds the metrics (the agent's Prometheus ones); none by default. */
  readonly metrics?: (journal: Journal, clock: Clock, outages: OutageLog) => Metrics;
  /** Overrides for tests: adapters other than S3. */
  readonly source?: SourceStore;
  readonly lake?: LakeStore;
  /** How this process uses the journal (default: as its owner, named `tributary`). */
  readonly journalAccess?: JournalAccess;
}

/**
 * The owner of a journal takes its lock (journal-lock.ts) before opening it, named by its command
 * in the refusal a second owner gets, and recovers what a previous owner left in flight. A reader
 * (verify) opens it beside a running owner and writes nothing: recovering in-flight rows there
 * would hand the owner's transfers to nobody.
 */
export type JournalAccess = { readonly owner: string } | 'reader';

const PART_CONCURRENCY = 4;
/** How stale the journal's "last checked" of an endpoint may get while nothing changes. */
const JOURNAL_CHECK_MS = 5000;
/** Concurrent hashing passes over large objects (see ReplicateContext.hashPasses). */
const HASH_PASSES = 2;

/** Where the agent's heartbeat lives in the core (DESIGN.md: the fleet view reads these). */
export function heartbeatKey(site: string): string {
  return `_tributary/sites/${site}/heartbeat.json`;
}

/** Calls every hook set, in order. */
function composeHooks(...sets: (RunnerHooks | undefined)[]): RunnerHooks {
  const present = sets.filter((set): set is RunnerHooks => set !== undefined);
  return {
    onStart: (job) => present.forEach((set) => set.onStart?.(job)),
    onLanded: (job, result, ms) => present.forEach((set) => set.onLanded?.(job, result, ms)),
    onFailed: (job, error, outcome, next) => present.forEach((set) => set.onFailed?.(job, error, outcome, next)),
  };
}

export function buildAgent<Metrics extends MetricsSink = MetricsSink>(config: Config, deps: AgentDependencies<Metrics>): Agent<Metrics> {
  const clock = deps.clock ?? systemClock;
  const log = deps.logger;
  const edgeCa = deps.source === undefined ? readCaBundle(config.edge, 'edge.caBundle') : undefined;
  const coreCa = deps.lake === undefined ? readCaBundle(config.core, 'core.caBundle') : undefined;
  // The lock before the journal is opened: opening the journal writes (migrations), and so does recovery.
  const access = deps.journalAccess ?? { owner: 'tributary' };
  const lock: JournalLock | undefined = access === 'reader' ? undefined : lockJournal(config.journal, access.owner);
  let journal: Journal;
  try {
    journal = openJournal(config.journal, clock);
  } catch (error) {
    lock?.release();
    throw error;
  }
  const sockets = config.transfer.concurrency * PART_CONCURRENCY + 4;
  const edgeEndpoint = deps.source === undefined ? createS3Endpoint(config.edge, sockets, edgeCa) : undefined;
  const coreEndpoint = deps.lake === undefined ? createS3Endpoint(config.core, sockets, coreCa) : undefined;
  const source = deps.source ?? createS3SourceStore(edgeEndpoint!);
  const lake = deps.lake ?? createS3LakeStore(coreEndpoint!, config.core.bucket, heartbeatKey(config.site), config.core.encryption);
  const outages = createOutageLog(clock);
  const metrics = deps.metrics?.(journal, clock, outages) ?? (silentMetrics as Metrics);
  const recent = createRecentLandings(clock);
  const recovered = lock === undefined ? 0 : journal.recoverInFlight();
  if (recovered > 0) log.info({ objects: recovered }, 'resuming objects a previous run left in flight');

  const health = createEndpointHealth(clock);
  const breaker = createCircuitBreaker({
    threshold: 3,
    clock,
    probe: async (side, signal) => {
      try {
        if (side === 'core') await lake.probe({ signal });
        else await source.checkBucket(config.edge.buckets[0]!.name, { signal });
      } catch (error) {
        health.recordError(side, error);
        throw error;
      }
    },
    onChange: (open, side, reason, detail) => {
      if (open) {
        log.warn({ side, reason }, `${side} unreachable: pausing transfers, probing until it answers`);
        health.markUnreachable(side, reason ?? 'network', detail ?? `${side} unreachable`);
      } else health.recordSuccess(side);
    },
  });
  // Everything that shows reachability follows the record. The journal row (for `status`, another
  // process) is rewritten on every change and otherwise at most every JOURNAL_CHECK_MS, for the
  // time it was last checked.
  const persistedAt: Record<Side, number> = { edge: -Infinity, core: -Infinity };
  health.subscribe((side, record, changed) => {
    if (changed) {
      metrics.setReachable(side, record.reachable);
      if (record.reachable) {
        outages.closed(side);
        log.info({ side }, `${side} reachable again`);
        // Heard from it elsewhere (a scan, a probe, a landing): transfers need not wait for the
        // breaker's next probe.
        if (breaker.isOpen && breaker.side === side) breaker.recordSuccess();
      } else {
        outages.opened(side, record.since);
        log.warn({ side, reason: record.reason, err: record.detail }, `${side} unreachable (${record.reason ?? 'unknown'})`);
      }
    }
    // Only the journal's owner records it: a reader (verify) must not overwrite what the agent saw.
    if (lock === undefined) return;
    if (!changed && record.checkedAt - persistedAt[side] < JOURNAL_CHECK_MS) return;
    try {
      journal.recordEndpointHealth(side, record);
      persistedAt[side] = record.checkedAt;
    } catch (error) {
      // The journal is failing: whatever writes next (a claim, a landing) stops the agent with it.
      log.debug({ err: coerceError(error).message }, 'endpoint health not recorded');
    }
  });

  /** Preflight of one side: any failure is recorded, and a silent endpoint diagnosed (not-s3.ts). */
  const preflightSide = async (side: Side, endpoint: S3Endpoint | undefined, check: () => Promise<void>, signal?: AbortSignal) => {
    try {
      await check();
      health.recordSuccess(side);
    } catch (error) {
      let err: TributaryError = coerceError(error);
      // Every connection closed without an answer (the client already tried again): an endpoint
      // that speaks TLS to an http:// URL, or no S3 at all. Only at start-up: later, a closed
      // connection is what a WAN does.
      if (err.reason === 'reset' && endpoint !== undefined) err = await diagnoseSilentEndpoint(side, endpoint.url, signal);
      health.recordError(side, err);
      throw err;
    }
  };

  const context: ReplicateContext = {
    site: config.site,
    keyTemplate: config.core.keyTemplate,
    source,
    lake,
    journal,
    budget: createWeightedSemaphore(config.transfer.memoryLimit),
    hashPasses: createWeightedSemaphore(HASH_PASSES),
    partSize: config.transfer.partSize,
    bufferThreshold: config.transfer.bufferThreshold,
    multipartThreshold: config.transfer.multipartThreshold,
    partConcurrency: PART_CONCURRENCY,
    headBeforePut: config.transfer.headBeforePut,
    onBytesSent: (bytes) => {
      metrics.bytesSent(bytes);
      deps.onBytesSent?.(bytes);
    },
  };
  for (const warning of configWarnings(config)) log.warn(warning);

  const refresh = async (job: JournalObject, signal: AbortSignal): Promise<'changed' | 'same' | 'gone'> => {
    const page = await source.list(job.bucket, job.key, undefined, 1, { signal });
    const current = page.objects[0];
    if (current === undefined || current.key !== job.key) return 'gone';
    // The journal decides what counts as the same version (an event's provisional mtime included).
    const [outcome] = journal.recordSeen([current], (o) => decide(config.rules, o.bucket, o.key), 'refresh');
    if (outcome !== 'unchanged') return 'changed';
    // The edge shows the journal's newest version; if that is not this job's (a scan or an event
    // journaled a newer one while this one was in flight), this one is superseded all the same.
    return journal.latest(job.bucket, job.key)?.id === job.id ? 'same' : 'changed';
  };

  /** The unfinished upload of a version that will never land (superseded, vanished): freed at the core. */
  const abandonUpload = (job: JournalObject) => {
    const upload = journal.multipart(job.id);
    if (upload) void lake.abortMultipart(upload.coreKey, upload.uploadId);
    journal.forgetMultipart(job.id);
  };

  const runner = createRunner({
    journal,
    clock,
    concurrency: config.transfer.concurrency,
    maxAttempts: config.transfer.maxAttempts,
    backoff: { baseMs: config.transfer.retryBase, capMs: config.transfer.retryCap },
    breaker,
    replicate: (job, signal) => replicateObject(context, job, signal),
    refresh,
    markSuperseded: (job, reason) => {
      abandonUpload(job);
      journal.markSuperseded(job.id, reason);
    },
    markVanished: (job, reason) => {
      abandonUpload(job);
      journal.markVanished(job.id, reason);
    },
    endpointDown: (side) => !health.isReachable(side),
    hooks: composeHooks(
      metrics.hooks,
      objectLogHooks(log),
      {
        onLanded: (job, result) => {
          // Throughput counts what was moved: a version the core already held landed without a byte sent.
          recent.record(Math.max(0, (clock.now() - job.firstSeenAt) / 1000), result.alreadyPresent ? 0 : job.size);
          // Read from the one, written to the other: both serve us.
          health.recordSuccess('edge');
          health.recordSuccess('core');
        },
      },
      deps.hooks,
    ),
  });

  const targets = config.edge.buckets.map((b) => ({ name: b.name, prefix: b.prefix }));
  const adoption = createAdoption({
    journal,
    lake,
    keys: { site: config.site, keyTemplate: config.core.keyTemplate },
    rules: config.rules,
    coreEtagsFromMd5: config.core.encryption.mode !== 'aws:kms',
    pageSize: config.scan.pageSize,
    concurrency: config.transfer.concurrency,
    targets,
    onListingRefused: (target, error) =>
      log.warn(
        { bucket: target.name, prefix: target.prefix, code: error.code, err: error.message },
        'the core refused to list what it holds (s3:ListBucket): this first pass sends every object, none is adopted',
      ),
    onManifestsRead: (reading) => {
      if (reading.skipped > 0 || reading.otherFiles > 0) {
        log.warn(
          reading,
          "some of the site's manifests are not manifest lines of this site and core bucket (lines, or files not .ndjson): skipped; what they would prove takes a HEAD",
        );
      } else log.info(reading, "read the site's manifests: what they list as landed is adopted without a request");
    },
    onManifestsRefused: (error) =>
      log.warn(
        { code: error.code, err: error.message },
        "the core refused to list or serve the site's manifests (_tributary/manifests/): every object adopted needs a HEAD of its core copy",
      ),
  });
  const repairDeps: RepairDeps = {
    journal,
    lake,
    source,
    keys: { site: config.site, keyTemplate: config.core.keyTemplate },
    rules: config.rules,
  };
  let deletionRound: Promise<DeletionRound> | undefined;
  const retention = retentionPolicy(config.retention, config.rules);
  const retentionDeps: RetentionDeps | undefined =
    retention === undefined
      ? undefined
      : {
          journal,
          source,
          lake,
          policy: retention,
          clock,
          concurrency: config.transfer.concurrency,
          retryAfterMs: config.retention.interval,
          onOutcome: (outcome, candidate) => metrics.countRetention(outcome, outcome === 'deleted' ? candidate.size : 0),
        };
  let retentionRound: Promise<RetentionRound> | undefined;
  let closing: Promise<void> | undefined;
  // Deletion propagation and edge retention never run at the same time: each decides from the
  // other's marks (a deletion request, an edge copy being deleted) and must see them settled.
  let deletionWork: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(work: () => Promise<T>): Promise<T> => {
    const run = deletionWork.then(work, work);
    deletionWork = run.catch(() => undefined);
    return run;
  };

  return {
    config,
    journal,
    source,
    lake,
    breaker,
    runner,
    metrics,
    recent,
    manifests: createManifestWriter({ site: config.site, journal, lake, log }),
    outages,
    health,
    targets,
    async preflight(signal) {
      await preflightSide('core', coreEndpoint, () => lake.probe({ signal }), signal);
      for (const target of targets) await preflightSide('edge', edgeEndpoint, () => source.checkBucket(target.name, { signal }), signal);
    },
    async scan(signal, onPage) {
      try {
        const result = await scanAll(
          {
            source,
            journal,
            rules: config.rules,
            pageSize: config.scan.pageSize,
            clock,
            trackDeletes: config.deletes === 'propagate',
            adoption,
            // Every page is an answer: a long scan keeps the edge's health fresh without probes.
            onPage: (_t, r) => {
              health.recordSuccess('edge');
              onPage?.(r.listed);
            },
          },
          targets,
          signal,
        );
        health.recordSuccess('edge');
        if (result.adopting) {
          log.info(
            { adopted: result.adopted, bytes: result.adoptedBytes },
            'adopted what the core already holds: journaled as landed, not sent again',
          );
        }
        return result;
      } catch (error) {
        health.recordError('edge', error);
        throw error;
      }
    },
    propagateDeletions(signal) {
      if (config.deletes !== 'propagate') return Promise.resolve({ deleted: 0, skipped: 0, failed: 0 });
      deletionRound ??= oneAtATime(() => propagateDeletions({ journal, source, lake }, signal))
        .then((round) => {
          if (round.deleted + round.skipped + round.failed > 0) log.info(round, 'deletions propagated to the core');
          return round;
        })
        .finally(() => {
          deletionRound = undefined;
        });
      return deletionRound;
    },
    retentionEnabled: retentionDeps !== undefined,
    async repair(action, signal) {
      // A reader must not write: a process beside the agent would hand it rows it does not expect.
      if (lock === undefined)
        throw new TributaryError('TRIB_ERR_INTERNAL', 'a repair needs the journal lock: open the journal as its owner');
      return repairOne(repairDeps, action, signal);
    },
    expireEdgeObjects(signal) {
      if (retentionDeps === undefined) return Promise.resolve(undefined);
      retentionRound ??= oneAtATime(() => runRetentionRound(retentionDeps, signal))
        .then((round) => {
          const { stoppedBy, ...counts } = round;
          if (stoppedBy !== undefined)
            log.warn(
              { code: stoppedBy.code, err: stoppedBy.message, ...counts },
              'edge retention stopped early; next round at the next interval',
            );
          else if (counts.deleted + counts.held + counts.kept + counts.requeued + counts.postponed > 0)
            log.info(counts, 'edge retention round');
          if (counts.held > 0)
            log.warn(
              { held: counts.held },
              'edge retention: core copies differ from the replicated versions; their edge objects are kept (see tributary status)',
            );
          if (counts.requeued > 0)
            log.warn({ requeued: counts.requeued }, 'edge retention: core copies are missing; their objects are replicated again');
          if (counts.refusals > 0) {
            log.warn(
              { refused: counts.refusals },
              'edge retention: the edge refused deletions; do the edge credentials allow s3:DeleteObject? (see tributary status)',
            );
          }
          return round;
        })
        .finally(() => {
          retentionRound = undefined;
        });
      return retentionRound;
    },
    close() {
      closing ??= (async () => {
        try {
          journal.close();
        } finally {
          lock?.release();
        }
        await Promise.all([edgeEndpoint?.close(), coreEndpoint?.close()]);
      })();
      return closing;
    },
  };
}
