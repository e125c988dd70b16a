/**
 * Adoption: the first scan pass of a target that this journal never completed (a new journal, a
 * reinstalled site, a bucket newly in the config) takes what the core already holds for the
 * versions it lists, instead of sending them again. The core's listing of the target, and what the
 * site's manifests say landed at each core key, are kept in the journal while that pass runs.
 */
import type { ManifestLanding } from '../../core/manifest-line.js';
import type { SourceObject } from '../source-store.js';

/** One core object of a target's listing. */
export interface CoreListingEntry {
  readonly coreKey: string;
  readonly etag: string;
  readonly size: number;
}

/**
 * How a core copy was proven to hold an edge version: `manifest`, a manifest line of the site names
 * this version at its key and the listing shows the copy that line left (a manifest lists it
 * already); `head`, a HEAD of the copy shows its lineage.
 */
export type AdoptionProof = 'manifest' | 'head';

/** An edge version whose core copy is proven to hold it. */
export interface AdoptedVersion {
  readonly object: SourceObject;
  readonly priority: number;
  readonly coreKey: string;
  readonly coreEtag: string;
  readonly coreSize: number;
  /** From the manifest line or the lineage that proved it. */
  readonly sha256: string;
  readonly proof: AdoptionProof;
  /**
   * True: a manifest line is written for it (marked `adopted`), as no manifest is known to list
   * it. False: none is (a manifest lists it already, or a repair cannot tell and lists nothing twice).
   */
  readonly listInManifest: boolean;
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
  /** Drops what the manifests said: a process reads them anew before it relies on them. */
  clearManifestLandings(): void;
  /** Adds landings read from manifest lines; per core key the latest (by landed_at) is kept. */
  recordManifestLandings(landings: readonly ManifestLanding[]): void;
  /**
   * The latest landing the manifests list at `coreKey`; undefined when none does, or when two
   * lines of the same landing time disagree (neither proves anything then).
   */
  manifestLanding(coreKey: string): ManifestLanding | undefined;
  /**
   * Journals each version as done, with its core copy's facts and how it was proven (`adopted_by`):
   * one not to be listed goes into a manifest batch of its own that is never written; one to be
   * listed is left for the next manifest batch. A version whose key the journal already holds a
   * row of is skipped (that row goes the usual way). Counted in agent_meta. Returns what it adopted.
   */
  adopt(versions: readonly AdoptedVersion[]): AdoptionTotals;
  /** The target's first pass is complete: it adopts no more, and its listing is dropped. */
  finishAdoption(bucket: string, prefix: string): void;
  /** Everything adopted by this journal, for metrics and status. */
  adoptedTotals(): AdoptionTotals;
}
