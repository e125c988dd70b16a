/**
 * What a test of one transfer stage (src/transfer/*.ts) calls it with: a ReplicateContext over the
 * fakes of fakes.ts and, for the stages that write to it, a real journal in a temp folder; and
 * journaled object versions to hand to the stage, as the runner would claim them.
 */
import { createHash } from 'node:crypto';
import type { TestContext } from 'node:test';

import type { ObjectHeaders } from '../../src/core/object-headers.js';
import { openJournal } from '../../src/journal/open-journal.js';
import type { Journal, JournalObject } from '../../src/ports/journal.js';
import type { SourceObject } from '../../src/ports/source-store.js';
import type { ReplicateContext } from '../../src/transfer/context.js';
import { createWeightedSemaphore } from '../../src/transfer/weighted-semaphore.js';
import { FakeClock, FakeLake, FakeSource } from './fakes.js';
import { tempDir } from './temp-dir.js';

export const sha256Hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
export const md5Hex = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

/** The settings of a context, as build-agent.ts fills them from a config; small sizes, so tests stay small. */
export const STAGE_SETTINGS = {
  site: 'site-a',
  keyTemplate: '{site}/{bucket}/{key}',
  partSize: 1 << 20,
  bufferThreshold: 64 << 10,
  multipartThreshold: 256 << 10,
  partConcurrency: 2,
  headBeforePut: 'auto',
} as const satisfies Partial<ReplicateContext>;

type Settings = Partial<Omit<ReplicateContext, 'source' | 'lake' | 'journal' | 'budget' | 'hashPasses'>>;

/** A context without a journal, for the stages that never touch one (upload, read and hash). */
export function contextWithoutJournal(source: FakeSource, lake: FakeLake, settings: Settings = {}): ReplicateContext {
  const noJournal = new Proxy({} as Journal, {
    get: (_target, name) => {
      throw new Error(`this stage was expected not to use the journal, but called journal.${String(name)}`);
    },
  });
  return contextOf(source, lake, noJournal, settings);
}

function contextOf(source: FakeSource, lake: FakeLake, journal: Journal, settings: Settings): ReplicateContext {
  return {
    ...STAGE_SETTINGS,
    source,
    lake,
    journal,
    budget: createWeightedSemaphore(64 << 20),
    hashPasses: createWeightedSemaphore(2),
    ...settings,
  };
}

export interface StageWorld {
  readonly context: ReplicateContext;
  readonly journal: Journal;
  readonly source: FakeSource;
  readonly lake: FakeLake;
  readonly clock: FakeClock;
  /** Puts an object at the edge and journals it as a scan (or, with `event`, an event) would; returns its row. */
  journaled(
    key: string,
    data: Buffer | string,
    options?: { readonly mtime?: Date; readonly headers?: ObjectHeaders; readonly event?: { readonly time: Date } },
  ): JournalObject;
}

/** A context over a real journal (a SQLite file in a temp folder, closed after the test). */
export function stageWorld(
  t: TestContext,
  options: { readonly source?: FakeSource; readonly lake?: FakeLake; readonly settings?: Settings } = {},
): StageWorld {
  const clock = new FakeClock();
  const journal = openJournal(tempDir(t, 'trib-stage-'), clock);
  t.after(() => journal.close());
  const source = options.source ?? new FakeSource();
  const lake = options.lake ?? new FakeLake();
  const context = contextOf(source, lake, journal, options.settings ?? {});
  return {
    context,
    journal,
    source,
    lake,
    clock,
    journaled(key, data, { mtime, headers, event } = {}) {
      const seen: SourceObject = source.put('edge', key, data, mtime, headers);
      const sighting = event === undefined ? seen : { ...seen, mtime: event.time, mtimeExact: false };
      journal.recordSeen([sighting], () => ({ priority: 2, excluded: false }), event === undefined ? 'scan' : 'event');
      return journal.latest('edge', key)!;
    },
  };
}

/** A journaled version as the runner would hand it over, for the unit tier (no journal file). */
export function jobOf(object: SourceObject, overrides: Partial<JournalObject> = {}): JournalObject {
  return {
    id: 1,
    bucket: object.bucket,
    key: object.key,
    etag: object.etag,
    size: object.size,
    mtimeMs: object.mtime.getTime(),
    mtimeExact: object.mtimeExact !== false,
    versionId: null,
    state: 'transferring',
    priority: 2,
    attempts: 0,
    deferrals: 0,
    nextAttemptAt: 0,
    lastErrorCode: null,
    lastError: null,
    coreKey: null,
    sha256: null,
    coreEtag: null,
    coreSize: null,
    detectedBy: 'scan',
    firstSeenAt: 0,
    landedAt: null,
    vanishedAt: null,
    forgottenAt: null,
    forgetReason: null,
    landingReason: null,
    adoptedBy: null,
    ...overrides,
  };
}
