/**
 * The reconcile scan: a paginated ListObjectsV2 walk of each configured bucket and prefix that
 * compares (key, ETag, size, mtime) with the journal. New and changed versions are queued;
 * unchanged ones cost nothing but the listing. After each page the position (the last key) is
 * saved, so an interrupted scan resumes where it stopped instead of at the start.
 */
import { decide, type Rule } from '../core/rules.js';
import type { Journal } from '../ports/journal.js';
import type { SourceStore } from '../ports/source-store.js';
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
  if (!resumed) journal.saveCheckpoint(target.name, target.prefix, { passStartedAt, startAfter: null, objectsSeen: 0, completedAt: null });

  for (;;) {
    signal?.throwIfAborted();
    await options.waitForRoom?.(signal);
    const page = await source.list(target.name, target.prefix, startAfter, options.pageSize, { signal });
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
    options.onPage?.(target, { listed, queued, changed, skipped, pages, resumed });
    if (startAfter === undefined) {
      if (options.trackDeletes) journal.requestDeletionsNotSeen(target.name, target.prefix, passStartedAt);
      break;
    }
  }
  return { listed, queued, changed, skipped, pages, resumed };
}

export async function scanAll(options: ScannerOptions, targets: readonly ScanTarget[], signal?: AbortSignal): Promise<ScanResult> {
  const total = { listed: 0, queued: 0, changed: 0, skipped: 0, pages: 0, resumed: false };
  for (const target of targets) {
    const result = await scanTarget(options, target, signal);
    total.listed += result.listed;
    total.queued += result.queued;
    total.changed += result.changed;
    total.skipped += result.skipped;
    total.pages += result.pages;
    total.resumed ||= result.resumed;
  }
  return total;
}
