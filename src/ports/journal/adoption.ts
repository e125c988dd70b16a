/**
 * Adoption: the first scan pass of a target that this journal never completed (a new journal, a
 * reinstalled site, a bucket newly in the config) takes what the core already holds for the
 * versions it lists, instead of sending them again. The core's listing of the target is kept in
 * the journal while that pass runs.
 */
import type { SourceObject } from '../source-store.js';

/** One core object of a target's listing. */
export interface CoreListingEntry {
  readonly coreKey: string;
  readonly etag: string;
  readonly size: number;
}

/** An edge version whose core copy is proven to hold it. */
export interface AdoptedVersion {
  readonly object: SourceObject;
  readonly priority: number;
  readonly coreKey: string;
  readonly coreEtag: string;
  readonly coreSize: number;
  /**
   * The SHA-256 from the core copy's lineage when a HEAD read it; null when the listing alone
   * proved the bytes (a plain-MD5 core ETag equal to the edge's): its readers then rely on that
   * recorded core ETag.
   */
  readonly sha256: string | null;
}

export interface AdoptionTotals {
  readonly objects: number;
  readonly bytes: number;
}

export interface AdoptionJournal {
  /** Marks the target's first pass as one that adopts; call before its checkpoint is first saved. */
  startAdoption(bucket: string, prefix: string): void;
  /** Whether the target's pass adopts: its first pass, started and not yet complete. */
  isAdopting(bucket: string, prefix: string): boolean;
  /** Drops the target's listing of the core: a process lists it anew before it relies on it. */
  clearCoreListing(bucket: string, prefix: string): void;
  /** Adds one page of the core's listing of the target. */
  recordCoreListing(bucket: string, prefix: string, entries: readonly CoreListingEntry[]): void;
  coreListed(bucket: string, prefix: string, coreKey: string): CoreListingEntry | undefined;
  /**
   * Journals each version as done, with its core copy's facts, in a manifest batch of its own that
   * is never written (the journal that landed it listed it) — unless the journal already holds a
   * row of its key, which then goes the usual way. Counted in agent_meta. Returns what it adopted.
   */
  adopt(versions: readonly AdoptedVersion[]): AdoptionTotals;
  /** The target's first pass is complete: it adopts no more, and its listing is dropped. */
  finishAdoption(bucket: string, prefix: string): void;
  /** Everything adopted by this journal, for metrics and status. */
  adoptedTotals(): AdoptionTotals;
}
