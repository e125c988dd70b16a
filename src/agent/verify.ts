/**
 * The audit behind `tributary verify [--deep] [--retained] [--repair]`: every edge object in scope
 * is in the core and unchanged since it landed. For each object the edge lists now: the journal
 * must hold that exact version as done, a HEAD of its core key must show the size and ETag
 * recorded when it landed, and the content headers and user metadata a HEAD of the edge object
 * shows. `deep` also reads both sides and compares their SHA-256 with the recorded one.
 * `retained` also checks the core copies of the objects edge retention deleted from the edge.
 *
 * `repair` (the journal's owner, like `sync --once`: never beside a running agent) then puts back
 * in the queue what it found missing or different (transfer/repair.ts), lands it with the runner
 * as `sync --once` does (no scan), writes the manifests, and checks those objects again. Without
 * it the audit is read-only: it works beside a running agent and writes nothing to its journal.
 *
 * The result says what was found and, after a repair, what was put right; the command prints it.
 */
import { createHash } from 'node:crypto';

import type { Config } from '../config/schema.js';
import { coerceError } from '../core/errors.js';
import { forEachConcurrently } from '../core/for-each-concurrently.js';
import { decide } from '../core/rules.js';
import { coreKeyFor } from '../land/core-key-for.js';
import { META } from '../land/lineage.js';
import { describeDifference, headerDifferences } from '../land/object-metadata.js';
import type { Logger } from '../observability/logger.js';
import type { Journal, JournalObject } from '../ports/journal.js';
import type { LakeHead, LakeStore } from '../ports/lake-store.js';
import type { SourceObject, SourceStore } from '../ports/source-store.js';
import { buildAgent, type Agent, type AgentDependencies, type RepairAction, type RepairOutcome } from './build-agent.js';

export interface VerifyProblem {
  readonly bucket: string;
  readonly key: string;
  readonly problem: 'missing' | 'different' | 'pending';
  readonly detail: string;
}

async function digestOf(read: () => Promise<{ body: NodeJS.ReadableStream }>, algorithm = 'sha256'): Promise<string> {
  const hash = createHash(algorithm);
  const { body } = await read();
  for await (const chunk of body) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** What was found, and with --repair what puts it right (nothing for what is already on its way). */
type Finding = Pick<VerifyProblem, 'problem' | 'detail'> & { readonly repair?: RepairAction };

/** A problem as checked: the edge object it is about (none for a retained copy), and its repair. */
type Checked = VerifyProblem & { readonly object?: SourceObject; readonly repair?: RepairAction };

const plain = (p: Checked): VerifyProblem => ({ bucket: p.bucket, key: p.key, problem: p.problem, detail: p.detail });

/** The core copy of a landed row against what was recorded when it landed: present, size, ETag. */
async function coreCopyProblem(
  row: JournalObject,
  coreKey: string,
  lake: LakeStore,
  signal: AbortSignal,
): Promise<Finding | { readonly head: LakeHead }> {
  const head = await lake.head(coreKey, { signal });
  if (head === undefined) return relanding(row, 'missing', `core object ${coreKey} does not exist`);
  if (head.size !== row.coreSize) return relanding(row, 'different', `core size ${head.size}, landed as ${row.coreSize ?? '?'}`);
  if (row.coreEtag !== null && head.etag !== undefined && head.etag !== row.coreEtag) {
    return relanding(row, 'different', `core ETag ${head.etag}, landed as ${row.coreEtag}`);
  }
  return { head };
}

/** A landed version whose core copy is missing or differs: repaired by landing it again. */
function relanding(row: JournalObject, problem: 'missing' | 'different', detail: string): Finding {
  return { problem, detail, repair: { kind: 'reland', row, coreCopy: problem, detail } };
}

/**
 * The core copy's content headers and user metadata against the edge object's, from a HEAD of
 * each (the listing has neither). Lineage entries are ours alone and not compared.
 */
async function headersProblem(
  object: SourceObject,
  core: LakeHead,
  source: SourceStore,
  signal: AbortSignal,
): Promise<Finding | undefined> {
  let edge;
  try {
    edge = await source.head(object, { signal });
  } catch (error) {
    // Deleted at the edge since the listing: no edge object to compare with any more.
    if (coerceError(error).code === 'TRIB_ERR_SOURCE_GONE') return undefined;
    throw error;
  }
  if (edge.etag !== object.etag || edge.size !== object.size) {
    return { problem: 'pending', detail: `changed at the edge while verify ran (ETag ${edge.etag}, listed ${object.etag})` };
  }
  const differences = headerDifferences(edge.headers, core);
  return differences.length === 0 ? undefined : { problem: 'different', detail: differences.map(describeDifference).join('; ') };
}

/** `--deep`: the core copy re-read, against the SHA-256 recorded when it landed. */
async function coreShaProblem(row: JournalObject, coreKey: string, lake: LakeStore, signal: AbortSignal): Promise<Finding | undefined> {
  if (row.sha256 === null) {
    // Adopted by its plain-MD5 core ETag, with no SHA-256 recorded (a journal older than migration
    // 0015; adoption now always records one): the bytes against that MD5.
    const md5 = await digestOf(() => lake.read(coreKey, { signal }), 'md5');
    return md5 === row.coreEtag?.toLowerCase()
      ? undefined
      : { problem: 'different', detail: `core MD5 ${md5}, adopted with ETag ${row.coreEtag ?? '?'}` };
  }
  const landedSha = await digestOf(() => lake.read(coreKey, { signal }));
  return landedSha === row.sha256
    ? undefined
    : { problem: 'different', detail: `core SHA-256 ${landedSha}, landed as ${row.sha256 ?? '?'}` };
}

/**
 * An edge object the journal does not hold (new since the last scan, or a journal started afresh):
 * the next scan queues it, and the core may already hold it, for example landed by an earlier
 * journal. Said apart, since only the second has a copy in the lake; both are still problems,
 * as no landing record vouches for the copy.
 */
async function unjournaledProblem(object: SourceObject, coreKey: string, lake: LakeStore, signal: AbortSignal): Promise<Finding> {
  const head = await lake.head(coreKey, { signal });
  const notJournaled = 'not in the journal (the next scan queues it)';
  const repair: RepairAction = { kind: 'journal', object };
  if (head === undefined) return { problem: 'missing', detail: `${notJournaled}; no core object ${coreKey}`, repair };
  if (head.size === object.size && head.metadata[META.sourceEtag] === object.etag) {
    return {
      problem: 'pending',
      detail: `${notJournaled}; the core already holds ${coreKey} with this version's lineage (the next pass journals it; with transfer.headBeforePut: always it is not sent again)`,
      repair,
    };
  }
  return {
    problem: 'missing',
    detail: `${notJournaled}; core object ${coreKey} holds other content (source ETag ${head.metadata[META.sourceEtag] ?? 'none'}, ${head.size} bytes)`,
    repair,
  };
}

/** What a journaled version that has not landed says: dead, vanished and forgotten ones are missing from the core. */
function notLandedProblem(row: JournalObject): Finding {
  const error = row.lastError ? `: ${row.lastError}` : '';
  switch (row.state) {
    case 'dead':
      return { problem: 'missing', detail: `dead${error}`, repair: { kind: 'requeue', row } };
    case 'vanished':
      return {
        problem: 'missing',
        detail: `vanished (the edge said it was gone; it lists it now)${error}`,
        repair: { kind: 'requeue', row },
      };
    case 'forgotten':
      return {
        problem: 'missing',
        detail: `forgotten with tributary forget ("${row.forgetReason ?? ''}")${error}`,
        repair: { kind: 'requeue', row },
      };
    case 'discovered':
    case 'queued':
    case 'transferring':
    case 'failed':
    case 'done':
    case 'skipped':
    case 'superseded':
      // On its way (queued, failing, in flight): landed by the next pass, or by a repair's run.
      return { problem: 'pending', detail: `${row.state}${error}` };
  }
}

async function checkOne(
  object: SourceObject,
  journal: Journal,
  lake: LakeStore,
  source: SourceStore,
  coreKeyOf: (object: SourceObject) => string,
  deep: boolean,
  signal: AbortSignal,
): Promise<Checked | undefined> {
  const at = { bucket: object.bucket, key: object.key, object };
  const row = journal.latest(object.bucket, object.key);
  if (row === undefined) {
    let coreKey: string;
    try {
      coreKey = coreKeyOf(object);
    } catch (error) {
      return {
        ...at,
        problem: 'missing',
        detail: `not in the journal; ${coerceError(error).message}`,
        repair: { kind: 'journal', object },
      };
    }
    return { ...at, ...(await unjournaledProblem(object, coreKey, lake, signal)) };
  }
  if (row.etag !== object.etag || row.size !== object.size || row.mtimeMs !== object.mtime.getTime()) {
    return {
      ...at,
      problem: 'pending',
      detail: `changed at the edge since it was journaled (ETag ${object.etag}, journal ${row.etag})`,
      repair: { kind: 'journal', object },
    };
  }
  if (row.state !== 'done' || row.coreKey === null) return { ...at, ...notLandedProblem(row) };
  const core = await coreCopyProblem(row, row.coreKey, lake, signal);
  if (!('head' in core)) return { ...at, ...core };
  const headers = await headersProblem(object, core.head, source, signal);
  if (headers !== undefined) {
    return { ...at, ...(headers.problem === 'different' ? relanding(row, 'different', headers.detail) : headers) };
  }
  if (deep) {
    const edgeSha = await digestOf(() => source.read(object, undefined, { signal }));
    if (row.sha256 === null) {
      // Adopted from the core by its plain-MD5 ETag before migration 0015: no SHA-256 was
      // recorded, so both sides are read and compared with each other.
      const coreSha = await digestOf(() => lake.read(row.coreKey!, { signal }));
      return coreSha === edgeSha
        ? undefined
        : { ...at, ...relanding(row, 'different', `edge SHA-256 ${edgeSha}, core SHA-256 ${coreSha} (adopted from the core)`) };
    }
    if (edgeSha !== row.sha256) return { ...at, ...relanding(row, 'different', `edge SHA-256 ${edgeSha}, landed as ${row.sha256}`) };
    const landed = await coreShaProblem(row, row.coreKey, lake, signal);
    if (landed !== undefined) return { ...at, ...relanding(row, 'different', landed.detail) };
  }
  return undefined;
}

/**
 * `--retained`: an object edge retention deleted is no edge object any more, but its core copy is
 * now the only one: it must still be there, as it landed.
 */
async function checkRetained(row: JournalObject, lake: LakeStore, deep: boolean, signal: AbortSignal): Promise<VerifyProblem | undefined> {
  const coreKey = row.coreKey ?? '';
  const core = await coreCopyProblem(row, coreKey, lake, signal);
  const found = !('head' in core) ? core : deep ? await coreShaProblem(row, coreKey, lake, signal) : undefined;
  return found === undefined
    ? undefined
    : { bucket: row.bucket, key: row.key, problem: found.problem, detail: `deleted from the edge by retention; ${found.detail}` };
}

/** Runs `check` over `items`, `concurrency` at a time, collecting the problems; returns how many were checked. */
async function checkAll<T>(
  items: readonly T[],
  concurrency: number,
  check: (item: T) => Promise<Checked | undefined>,
  problems: Checked[],
): Promise<number> {
  await forEachConcurrently(items, concurrency, async (item) => {
    const problem = await check(item);
    if (problem) problems.push(problem);
  });
  return items.length;
}

/**
 * How a problem was put right: landed again (or at last) as a repair, journaled and landed (the
 * journal lacked it), adopted (the core held it), or landed as it was already on its way.
 */
export interface Repaired {
  readonly bucket: string;
  readonly key: string;
  readonly how: 'landed again' | 'journaled and landed' | 'adopted' | 'landed';
}

export interface RepairReport {
  /** Versions put back in the queue to land as repairs. */
  readonly queued: number;
  /** Edge versions the journal lacked, journaled to land as repairs. */
  readonly journaled: number;
  /** Versions the core was proven to hold after all: journaled as landed, nothing sent. */
  readonly adopted: number;
  /** Landings of the repair's run (what was queued, and anything else that was runnable). */
  readonly landed: number;
  readonly repaired: readonly Repaired[];
  /** What is still missing, pending or different when checked again. */
  readonly remaining: readonly VerifyProblem[];
  /** Why the run stopped before everything landed (an endpoint unreachable, a signal), if it did. */
  readonly stopped?: string;
}

interface CheckContext {
  readonly agent: Agent;
  readonly coreKeyOf: (object: SourceObject) => string;
  readonly deep: boolean;
  readonly concurrency: number;
  readonly signal: AbortSignal;
}

const byKey = (a: Pick<VerifyProblem, 'bucket' | 'key'>, b: Pick<VerifyProblem, 'bucket' | 'key'>) =>
  a.bucket.localeCompare(b.bucket) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * Queues or adopts what each problem needs, lands it with the runner in `once` mode (as `sync
 * --once` does, without a scan), writes the manifests of what landed, and checks each problem's
 * edge object again. A copy retention deleted from the edge cannot be landed again from it.
 */
async function repairAll(problems: readonly Checked[], context: CheckContext, log: Logger): Promise<RepairReport> {
  const { agent, signal } = context;
  const outcomes = new Map<Checked, RepairOutcome | 'none'>();
  await forEachConcurrently(problems, context.concurrency, async (problem) => {
    if (problem.repair === undefined) {
      outcomes.set(problem, 'none');
      return;
    }
    try {
      outcomes.set(problem, await agent.repair(problem.repair, signal));
    } catch (error) {
      const err = coerceError(error);
      if (err.errorClass === 'fatal' || err.errorClass === 'cancelled') throw err;
      // Left as it is: checked again below, and reported then.
      log.warn({ bucket: problem.bucket, key: problem.key, code: err.code, err: err.message }, 'could not repair an object');
      outcomes.set(problem, 'none');
    }
  });
  const startedAt = Date.now();
  const run = await agent.runner.run({ mode: 'once', retryHorizonMs: 60_000, maxOutageMs: 60_000, signal, drainMs: 5000 });
  if (run.fatal) throw run.fatal;
  const listed = await agent.manifests.flush(AbortSignal.timeout(10_000));
  log.info({ landed: run.landed, listed, ms: Date.now() - startedAt }, 'repair run complete');
  const repaired: Repaired[] = [];
  const remaining: Checked[] = [];
  await forEachConcurrently(problems, context.concurrency, async (problem) => {
    if (problem.object === undefined) {
      remaining.push({ ...problem, detail: `${problem.detail} (not repairable from the edge: retention deleted it there)` });
      return;
    }
    const again = await checkOne(problem.object, agent.journal, agent.lake, agent.source, context.coreKeyOf, context.deep, signal);
    if (again !== undefined) {
      remaining.push(again);
      return;
    }
    const outcome = outcomes.get(problem);
    repaired.push({
      bucket: problem.bucket,
      key: problem.key,
      how:
        outcome === 'adopted'
          ? 'adopted'
          : outcome === 'queued'
            ? 'landed again'
            : outcome === 'journaled'
              ? 'journaled and landed'
              : 'landed',
    });
  });
  const count = (outcome: RepairOutcome) => [...outcomes.values()].filter((o) => o === outcome).length;
  const stopped =
    run.stoppedBy === 'outage'
      ? `an endpoint stayed unreachable (${agent.health.isReachable('core') ? 'edge' : 'core'})`
      : run.stoppedBy === 'signal'
        ? 'interrupted'
        : undefined;
  return {
    queued: count('queued'),
    journaled: count('journaled'),
    adopted: count('adopted'),
    landed: run.landed,
    repaired: repaired.sort(byKey),
    remaining: remaining.map(plain).sort(byKey),
    ...(stopped === undefined ? {} : { stopped }),
  };
}

export interface VerifyOptions {
  /** Also read both sides and compare their SHA-256 with the one recorded at landing. */
  readonly deep: boolean;
  /** Also the core copies of the objects edge retention deleted. */
  readonly retained: boolean;
  /** Put right what is missing or different, then check it again (takes the journal's lock). */
  readonly repair: boolean;
  readonly signal: AbortSignal;
}

export interface VerifyResult {
  /** Objects checked: the edge's in scope, and with `retained` the copies retention left. */
  readonly checked: number;
  /** How many of `checked` were copies of objects edge retention deleted from the edge. */
  readonly retainedChecked: number;
  /** What was found missing, pending or different, in key order (before any repair). */
  readonly problems: readonly VerifyProblem[];
  /** With `repair`, when anything was found: what was put right and what is left. */
  readonly repair?: RepairReport;
}

/** Adapters and clock for tests; the logger is the command's. */
export type VerifyDependencies = Pick<AgentDependencies, 'logger' | 'clock' | 'source' | 'lake'>;

/** Audits the core against the edge (and, with `repair`, puts right what it can); the journal must exist. */
export async function runVerify(config: Config, options: VerifyOptions, deps: VerifyDependencies): Promise<VerifyResult> {
  const { deep, repair, signal } = options;
  const log = deps.logger;
  // A reader: verify works beside a running agent and writes nothing to its journal. A repair
  // writes and lands: it owns the journal, as sync --once does, and is refused beside an agent.
  const agent = buildAgent(config, { ...deps, journalAccess: repair ? { owner: 'tributary verify --repair' } : 'reader' });
  const problems: Checked[] = [];
  let checked = 0;
  let retainedChecked = 0;
  let repaired: RepairReport | undefined;
  try {
    await agent.preflight(signal);
    const context: CheckContext = {
      agent,
      deep,
      signal,
      concurrency: Math.max(4, config.transfer.concurrency * 2),
      coreKeyOf: (object) =>
        coreKeyFor(
          { site: config.site, keyTemplate: config.core.keyTemplate },
          { bucket: object.bucket, key: object.key, mtimeMs: object.mtime.getTime() },
        ),
    };
    for (const target of agent.targets) {
      let startAfter: string | undefined;
      do {
        const page = await agent.source.list(target.name, target.prefix, startAfter, config.scan.pageSize, { signal });
        const inScope = page.objects.filter((o) => !decide(config.rules, o.bucket, o.key).excluded);
        checked += await checkAll(
          inScope,
          context.concurrency,
          (object) => checkOne(object, agent.journal, agent.lake, agent.source, context.coreKeyOf, deep, signal),
          problems,
        );
        startAfter = page.nextStartAfter;
      } while (startAfter !== undefined);
    }
    if (options.retained) {
      for (
        let page = agent.journal.removedFromEdge(0, 1000);
        page.length > 0;
        page = agent.journal.removedFromEdge(page.at(-1)!.id, 1000)
      ) {
        const retained = await checkAll(page, context.concurrency, (object) => checkRetained(object, agent.lake, deep, signal), problems);
        checked += retained;
        retainedChecked += retained;
      }
    }
    if (repair && problems.length > 0) repaired = await repairAll(problems, context, log);
  } finally {
    await agent.close();
  }
  return {
    checked,
    retainedChecked,
    problems: problems.sort(byKey).map(plain),
    ...(repaired === undefined ? {} : { repair: repaired }),
  };
}
