/**
 * The reconcile scan: a paginated ListObjectsV2 walk of each configured bucket and prefix that
 * compares (key, ETag, size, mtime) with the journal. New and changed versions are queued;
 * unchanged ones cost nothing but the listing. After each page the position (the last key) is
 * saved, so an interrupted scan resumes where it stopped instead of at the start.
 *
 * A target's first pass (a new journal, a reinstalled site, a bucket newly in the config) first
 * takes what the core already holds (ScanAdoption): versions proven to be there are journaled
 * done, not queued.
 */
import { decide, type Rule } from '../core/rules.js';
import type { Journal } from '../ports/journal.js';
import type { SourceObject, SourceStore } from '../ports/source-store.js';
import type { Clock } from '../ports/clock.js';

export interface ScanTarget {
  readonly name: string;
  readonly prefix: string;
}

export interface ScanResult {
  readonly listed: number;
  readonly queued: number;
  readonly changed: number;
  readonly skipped: number;
  readonly pages: number;
  /** True when this pass continued one a previous run left unfinished. */
  readonly resumed: boolean;
  /** True when a target's pass adopted what the core holds (its first pass). */
  readonly adopting: boolean;
  /** Versions journaled done because the core already holds them, and their bytes. */
  readonly adopted: number;
  readonly adoptedBytes: number;
}

/** What a target's first pass takes from the core (transfer/adopt.ts). */
export interface ScanAdoption {
  /** Whether this pass adopts (a first pass, or its continuation); lists the core first. */
  begin(target: ScanTarget, pass: 'first' | 'resumed' | 'again', signal?: AbortSignal): Promise<boolean>;
  /** Journals as done the versions of a page the core is proven to hold, before the page is recorded. */
  adopt(target: ScanTarget, objects: readonly SourceObject[], signal?: AbortSignal): Promise<{ objects: number; bytes: number }>;
  /** The adopting pass is complete. */
  finish(target: ScanTarget): void;
}

export interface ScannerOptions {
  readonly source: SourceStore;
  readonly journal: Journal;
  readonly rules: readonly Rule[];
  readonly pageSize: number;
  readonly clock: Clock;
  /** Waits while the backlog is above its high-water mark (backpressure on detection). */
  readonly waitForRoom?: (signal?: AbortSignal) => Promise<void>;
  readonly onPage?: (target: ScanTarget, result: ScanResult) => void;
  /** deletes: propagate — remember what each pass listed, and request deletions for the rest. */
  readonly trackDeletes?: boolean;
  /** Takes what the core already holds on a target's first pass; without it everything new is queued. */
  readonly adoption?: ScanAdoption;
}

export async function scanTarget(options: ScannerOptions, target: ScanTarget, signal?: AbortSignal): Promise<ScanResult> {
  const { source, journal, rules, clock } = options;
  const saved = journal.checkpoint(target.name, target.prefix);
  const resumed = saved !== undefined && saved.completedAt === null;
  const passStartedAt = resumed ? saved.passStartedAt : clock.now();
  let startAfter = resumed ? (saved.startAfter ?? undefined) : undefined;
  let listed = resumed ? saved.objectsSeen : 0;
  let queued = 0;
  let changed = 0;
  let skipped = 0;
  let pages = 0;
  let adopted = 0;
  let adoptedBytes = 0;
  // Before the pass's first checkpoint: a pass that has one is no first pass.
  const { adoption } = options;
  const adopting =
    adoption !== undefined && (await adoption.begin(target, saved === undefined ? 'first' : resumed ? 'resumed' : 'again', signal));
  if (!resumed) journal.saveCheckpoint(target.name, target.prefix, { passStartedAt, startAfter: null, objectsSeen: 0, completedAt: null });

  for (;;) {
    signal?.throwIfAborted();
    await options.waitForRoom?.(signal);
    const page = await source.list(target.name, target.prefix, startAfter, options.pageSize, { signal });
    if (adopting) {
      const taken = await adoption.adopt(target, page.objects, signal);
      adopted += taken.objects;
      adoptedBytes += taken.bytes;
    }
    const outcomes = journal.recordSeen(
      page.objects,
      (object) => {
        const decision = decide(rules, object.bucket, object.key);
        return { priority: decision.priority, excluded: decision.excluded };
      },
      'scan',
    );
    if (options.trackDeletes) journal.markSeen(page.objects, passStartedAt);
    pages += 1;
    listed += page.objects.length;
    outcomes.forEach((outcome, index) => {
      if (outcome === 'unchanged') return;
      if (outcome === 'changed') changed += 1;
      const object = page.objects[index]!;
      if (decide(rules, object.bucket, object.key).excluded) skipped += 1;
      else queued += 1;
    });
    startAfter = page.nextStartAfter;
    journal.saveCheckpoint(target.name, target.prefix, {
      passStartedAt,
      startAfter: startAfter ?? null,
      objectsSeen: listed,
      completedAt: startAfter === undefined ? clock.now() : null,
    });
    options.onPage?.(target, { listed, queued, changed, skipped, pages, resumed, adopting, adopted, adoptedBytes });
    if (startAfter === undefined) {
      if (options.trackDeletes) journal.requestDeletionsNotSeen(target.name, target.prefix, passStartedAt);
      if (adopting) adoption.finish(target);
      break;
    }
  }
  return { listed, queued, changed, skipped, pages, resumed, adopting, adopted, adoptedBytes };
}

export async function scanAll(options: ScannerOptions, targets: readonly ScanTarget[], signal?: AbortSignal): Promise<ScanResult> {
  const total = { listed: 0, queued: 0, changed: 0, skipped: 0, pages: 0, resumed: false, adopting: false, adopted: 0, adoptedBytes: 0 };
  for (const target of targets) {
    const result = await scanTarget(options, target, signal);
    total.listed += result.listed;
    total.queued += result.queued;
    total.changed += result.changed;
    total.skipped += result.skipped;
    total.pages += result.pages;
    total.resumed ||= result.resumed;
    total.adopting ||= result.adopting;
    total.adopted += result.adopted;
    total.adoptedBytes += result.adoptedBytes;
  }
  return total;
}
