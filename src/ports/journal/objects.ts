/**
 * The journal's catalog of object versions and their states (see core/object-state.ts): what the
 * detectors record, what the scheduler claims, and how each attempt ends.
 */
import type { ErrorCode } from '../../core/errors.js';
import type { LandingReason, ObjectState } from '../../core/object-state.js';
import type { SourceObject } from '../source-store.js';

/** One journaled object version, as the runner and the CLI see it. */
export interface JournalObject {
  readonly id: number;
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** False while mtimeMs is an event's time, not yet the object's Last-Modified. */
  readonly mtimeExact: boolean;
  readonly versionId: string | null;
  readonly state: ObjectState;
  readonly priority: number;
  readonly attempts: number;
  readonly deferrals: number;
  readonly nextAttemptAt: number;
  readonly lastErrorCode: string | null;
  readonly lastError: string | null;
  readonly coreKey: string | null;
  readonly sha256: string | null;
  readonly coreEtag: string | null;
  readonly coreSize: number | null;
  readonly detectedBy: string;
  readonly firstSeenAt: number;
  readonly landedAt: number | null;
  /** When the edge said it was gone (state `vanished`). */
  readonly vanishedAt: number | null;
  /** When and why `tributary forget` acknowledged it (state `forgotten`). */
  readonly forgottenAt: number | null;
  readonly forgetReason: string | null;
  /** Why it is queued to land again, or was landed so (see core/object-state.ts); null for an ordinary landing. */
  readonly landingReason: LandingReason | null;
  /**
   * How a new journal proved the core already held it, instead of landing it (see
   * ports/journal/adoption.ts; 'listing': adopted before manifests were read); null when it landed.
   */
  readonly adoptedBy: 'listing' | 'manifest' | 'head' | null;
}

export type SeenOutcome = 'new' | 'changed' | 'unchanged';

export interface SeenDecision {
  readonly priority: number;
  readonly excluded: boolean;
}

export interface LandedFacts {
  readonly coreKey: string;
  readonly sha256: string;
  readonly coreEtag: string | null;
  readonly coreSize: number;
}

export interface FailureFacts {
  readonly code: ErrorCode;
  readonly message: string;
  /** 'retry' keeps it runnable at nextAttemptAt; 'dead' parks it until `tributary retry`. */
  readonly outcome: 'retry' | 'dead';
  readonly consumeAttempt: boolean;
  readonly nextAttemptAt: number;
}

/** Which dead objects `tributary forget` acknowledges: all of them, those of one code, of one key, or both. */
export interface ForgetFilter {
  readonly code?: string | undefined;
  readonly bucket?: string | undefined;
  readonly key?: string | undefined;
}

export interface ObjectJournal {
  recordSeen(objects: readonly SourceObject[], decide: (object: SourceObject) => SeenDecision, detectedBy: string): SeenOutcome[];
  claim(limit: number): JournalObject[];
  get(id: number): JournalObject | undefined;
  latest(bucket: string, key: string): JournalObject | undefined;
  /** Written behind: durable within milliseconds, at once on flush() or any other call. */
  markLanded(id: number, facts: LandedFacts): void;
  /** Writes pending landings now. */
  flush(): void;
  markFailed(id: number, facts: FailureFacts): void;
  /**
   * Records the object's real Last-Modified for a row an event created. False, and nothing
   * written, when a newer row holds this very version: this row is history then.
   */
  setExactMtime(id: number, mtimeMs: number): boolean;
  /** This version will never land because a newer one was seen; the reason is kept. */
  markSuperseded(id: number, reason: string): void;
  /** Back to queued without touching attempts (shutdown, throttling, unreachable endpoint). */
  release(id: number, options?: { readonly nextAttemptAt?: number; readonly code?: ErrorCode; readonly message?: string }): void;
  /** Objects a crash left `transferring` go back to `queued`; their multipart progress stays. */
  recoverInFlight(): number;
  /**
   * The edge answered 404 and its listing no longer shows the key: `vanished` (terminal, not a
   * failure), with the time and the message. Only a version not landed yet.
   */
  markVanished(id: number, message: string): void;
  retryDead(filter?: { readonly code?: string | undefined }): number;
  /**
   * Dead objects (all, those of `code`, or those of one key) become `forgotten` with the reason and
   * the time; their error stays. Returns how many.
   */
  forgetDead(filter: ForgetFilter, reason: string): number;
  /**
   * The core copy of a done object is gone (or differs) while the edge still holds it: replicate it
   * again, marked with `reason` (default `core-copy-missing`); its next landing is listed in a
   * manifest again.
   */
  requeueMissing(id: number, code: ErrorCode, message: string, reason?: LandingReason): void;
  /**
   * A dead, vanished or forgotten version the edge still holds, missing from the core: queued again
   * with fresh attempts to land as a repair (`verify --repair`). False when the row is in no such state.
   */
  requeueForRepair(id: number): boolean;
  /** Marks a queued version to land as `reason` (a version `verify --repair` journaled). */
  setLandingReason(id: number, reason: LandingReason): void;
  countRunnable(): number;
  /** Earliest time a queued or failed object may run, if any is waiting. */
  nextAttemptAt(): number | undefined;
  /** The latest version of every key, streamed in key order (for verify). */
  iterateLatest(): IterableIterator<JournalObject>;
}
