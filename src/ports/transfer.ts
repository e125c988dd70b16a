/** What the scheduler asks of a transfer: land one journaled version, or throw a classified error. */
import type { JournalObject, LandedFacts } from './journal.js';

export interface TransferResult extends LandedFacts {
  /** True when the core already held identical content and nothing was uploaded. */
  readonly alreadyPresent: boolean;
}

export type Transfer = (job: JournalObject, signal: AbortSignal) => Promise<TransferResult>;
