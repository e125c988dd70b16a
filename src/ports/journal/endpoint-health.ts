/**
 * The last known reachability of each endpoint, as the agent recorded it: `status` runs in
 * another process and reads it from the journal.
 */
import type { OutageReason } from '../../core/errors.js';
import type { Side } from '../../core/side.js';

export interface EndpointHealthRecord {
  readonly reachable: boolean;
  /** Since when (ms) the endpoint has been in this state: the first failure of an outage. */
  readonly since: number;
  /** Why it is unreachable; undefined while it is reachable. */
  readonly reason: OutageReason | undefined;
  /** The error that said so (its message); undefined while it is reachable. */
  readonly detail: string | undefined;
  /** When (ms) the endpoint was last heard from or tried. */
  readonly checkedAt: number;
}

export interface EndpointHealthJournal {
  recordEndpointHealth(side: Side, record: EndpointHealthRecord): void;
  /** What the agent last recorded for `side`, if anything. */
  endpointHealth(side: Side): EndpointHealthRecord | undefined;
}
