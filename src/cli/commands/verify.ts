/**
 * `tributary verify [--deep]`: an audit that every edge object in scope is in the core and
 * unchanged since it landed. For each object the edge lists now: the journal must hold that
 * exact version as done, a HEAD of its core key must show the size and ETag recorded when it
 * landed, and the content headers and user metadata a HEAD of the edge object shows.
 * `--deep` also reads both sides and compares their SHA-256 with the recorded one.
 * `--retained` also checks the core copies of the objects edge retention deleted from the edge.
 * Exit 0 only when nothing is missing or different.
 */
import { createHash } from 'node:crypto';

import { buildAgent } from '../../agent/build-agent.js';
import { coerceError } from '../../core/errors.js';
import { forEachConcurrently } from '../../core/for-each-concurrently.js';
import { decide } from '../../core/rules.js';
import { countOf } from '../../core/units.js';
import type { Logger } from '../../observability/logger.js';
import type { LakeHead, LakeStore } from '../../ports/lake-store.js';
import type { SourceObject, SourceStore } from '../../ports/source-store.js';
import type { Journal, JournalObject } from '../../ports/journal.js';
import { META } from '../../land/lineage.js';
import { coreKeyFor } from '../../land/core-key-for.js';
import { describeDifference, headerDifferences } from '../../land/object-metadata.js';
import { EXIT, loadConfigOrFail, requireJournal, type Output } from '../context.js';

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

type Finding = Pick<VerifyProblem, 'problem' | 'detail'>;

/** The core copy of a landed row against what was recorded when it landed: present, size, ETag. */
async function coreCopyProblem(
  row: JournalObject,
  coreKey: string,
  lake: LakeStore,
  signal: AbortSignal,
): Promise<Finding | { readonly head: LakeHead }> {
  const head = await lake.head(coreKey, { signal });
  if (head === undefined) return { problem: 'missing', detail: `core object ${coreKey} does not exist` };
  if (head.size !== row.coreSize) return { problem: 'different', detail: `core size ${head.size}, landed as ${row.coreSize ?? '?'}` };
  if (row.coreEtag !== null && head.etag !== undefined && head.etag !== row.coreEtag) {
    return { problem: 'different', detail: `core ETag ${head.etag}, landed as ${row.coreEtag}` };
  }
  return { head };
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
    // Adopted by its plain-MD5 core ETag, with no SHA-256 recorded: the bytes against that MD5.
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
  if (head === undefined) return { problem: 'missing', detail: `${notJournaled}; no core object ${coreKey}` };
  if (head.size === object.size && head.metadata[META.sourceEtag] === object.etag) {
    return {
      problem: 'pending',
      detail: `${notJournaled}; the core already holds ${coreKey} with this version's lineage (the next pass journals it; with transfer.headBeforePut: always it is not sent again)`,
    };
  }
  return {
    problem: 'missing',
    detail: `${notJournaled}; core object ${coreKey} holds other content (source ETag ${head.metadata[META.sourceEtag] ?? 'none'}, ${head.size} bytes)`,
  };
}

async function checkOne(
  object: SourceObject,
  journal: Journal,
  lake: LakeStore,
  source: SourceStore,
  coreKeyOf: (object: SourceObject) => string,
  deep: boolean,
  signal: AbortSignal,
): Promise<VerifyProblem | undefined> {
  const at = { bucket: object.bucket, key: object.key };
  const row = journal.latest(object.bucket, object.key);
  if (row === undefined) {
    let coreKey: string;
    try {
      coreKey = coreKeyOf(object);
    } catch (error) {
      return { ...at, problem: 'missing', detail: `not in the journal; ${coerceError(error).message}` };
    }
    return { ...at, ...(await unjournaledProblem(object, coreKey, lake, signal)) };
  }
  if (row.etag !== object.etag || row.size !== object.size || row.mtimeMs !== object.mtime.getTime()) {
    return { ...at, problem: 'pending', detail: `changed at the edge since it was journaled (ETag ${object.etag}, journal ${row.etag})` };
  }
  if (row.state !== 'done' || row.coreKey === null) {
    return {
      ...at,
      problem: row.state === 'dead' ? 'missing' : 'pending',
      detail: `${row.state}${row.lastError ? `: ${row.lastError}` : ''}`,
    };
  }
  const core = await coreCopyProblem(row, row.coreKey, lake, signal);
  if (!('head' in core)) return { ...at, ...core };
  const headers = await headersProblem(object, core.head, source, signal);
  if (headers !== undefined) return { ...at, ...headers };
  if (deep) {
    const edgeSha = await digestOf(() => source.read(object, undefined, { signal }));
    if (row.sha256 === null) {
      // Adopted from the core by its plain-MD5 ETag: no SHA-256 was recorded, so both sides are
      // read and compared with each other.
      const coreSha = await digestOf(() => lake.read(row.coreKey!, { signal }));
      return coreSha === edgeSha
        ? undefined
        : { ...at, problem: 'different', detail: `edge SHA-256 ${edgeSha}, core SHA-256 ${coreSha} (adopted from the core)` };
    }
    if (edgeSha !== row.sha256) return { ...at, problem: 'different', detail: `edge SHA-256 ${edgeSha}, landed as ${row.sha256}` };
    const landed = await coreShaProblem(row, row.coreKey, lake, signal);
    if (landed !== undefined) return { ...at, ...landed };
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
  check: (item: T) => Promise<VerifyProblem | undefined>,
  problems: VerifyProblem[],
): Promise<number> {
  await forEachConcurrently(items, concurrency, async (item) => {
    const problem = await check(item);
    if (problem) problems.push(problem);
  });
  return items.length;
}

export interface VerifyOptions {
  readonly deep: boolean;
  readonly json: boolean;
  /** Also the core copies of the objects edge retention deleted. */
  readonly retained: boolean;
}

export async function verify(file: string, options: VerifyOptions, output: Output, log: Logger, signal: AbortSignal): Promise<number> {
  const { deep, json } = options;
  const config = loadConfigOrFail(file);
  requireJournal(config);
  // A reader: verify works beside a running agent and writes nothing to its journal.
  const agent = buildAgent(config, { logger: log, journalAccess: 'reader' });
  const problems: VerifyProblem[] = [];
  let checked = 0;
  let retainedChecked = 0;
  try {
    await agent.preflight(signal);
    const concurrency = Math.max(4, config.transfer.concurrency * 2);
    const coreKeyOf = (object: SourceObject) =>
      coreKeyFor(
        { site: config.site, keyTemplate: config.core.keyTemplate },
        { bucket: object.bucket, key: object.key, mtimeMs: object.mtime.getTime() },
      );
    for (const target of agent.targets) {
      let startAfter: string | undefined;
      do {
        const page = await agent.source.list(target.name, target.prefix, startAfter, config.scan.pageSize, { signal });
        const inScope = page.objects.filter((o) => !decide(config.rules, o.bucket, o.key).excluded);
        checked += await checkAll(
          inScope,
          concurrency,
          (object) => checkOne(object, agent.journal, agent.lake, agent.source, coreKeyOf, deep, signal),
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
        const retained = await checkAll(page, concurrency, (object) => checkRetained(object, agent.lake, deep, signal), problems);
        checked += retained;
        retainedChecked += retained;
      }
    }
  } finally {
    await agent.close();
  }
  problems.sort((a, b) => a.bucket.localeCompare(b.bucket) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const flags = `${deep ? ' --deep' : ''}${options.retained ? ' --retained' : ''}`;
  if (json) output.out(JSON.stringify({ checked, deep, ...(options.retained ? { retainedChecked } : {}), problems }, null, 2));
  else {
    for (const p of problems) output.out(`${p.problem.padEnd(9)} ${p.bucket}/${p.key}: ${p.detail}`);
    const retainedNote = options.retained ? ` (${retainedChecked} of them deleted from the edge by retention)` : '';
    output.out(`verify${flags}: ${countOf(checked, 'object')} checked${retainedNote}, ${problems.length} missing, pending or different`);
  }
  return problems.length === 0 ? EXIT.ok : EXIT.incomplete;
}
