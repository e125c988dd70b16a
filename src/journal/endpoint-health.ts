/**
 * Each endpoint's reachability as the agent last recorded it, one agent_meta row per side (JSON):
 * written when it changes and, while it does not, at most every few seconds with the time it was
 * last checked. Read by `status` from another process.
 */
import { OUTAGE_REASONS } from '../core/errors.js';
import type { Side } from '../core/side.js';
import type { EndpointHealthJournal, EndpointHealthRecord } from '../ports/journal.js';
import type { Guarded } from './guard.js';
import type { MetaStore } from './meta.js';

const metaName = (side: Side) => `endpoint_health_${side}`;

function parse(text: string | undefined): EndpointHealthRecord | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<Record<keyof EndpointHealthRecord, unknown>>;
    if (typeof value.reachable !== 'boolean' || typeof value.since !== 'number' || typeof value.checkedAt !== 'number') return undefined;
    const reason = OUTAGE_REASONS.find((r) => r === value.reason);
    return {
      reachable: value.reachable,
      since: value.since,
      reason,
      detail: typeof value.detail === 'string' ? value.detail : undefined,
      checkedAt: value.checkedAt,
    };
  } catch {
    // A row another version wrote in a shape this one does not know: as if none.
    return undefined;
  }
}

export function createEndpointHealthJournal(guarded: Guarded, meta: MetaStore): EndpointHealthJournal {
  return {
    recordEndpointHealth: (side, record) =>
      guarded('record the endpoint health', () => {
        meta.set(metaName(side), JSON.stringify(record));
      }),
    endpointHealth: (side) => parse(meta.get(metaName(side))),
  };
}
