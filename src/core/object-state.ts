/**
 * The life of one source object version in the journal:
 *
 *   discovered -> queued -> transferring -> done
 *                   ^            |
 *                   |            +-> failed (retry at next_attempt_at) -> transferring ...
 *                   |            +-> dead (permanent error, or attempts used up; `tributary retry` re-queues)
 *                   +------------+-> queued (released: shutdown, throttled, endpoint unreachable)
 *   any pending state -> superseded (a newer version of the same key was seen)
 *   discovered -> skipped (excluded by a rule)
 *
 * Only one version of a key is ever `transferring`: a newer version waits until the older one
 * has finished, so an older version can never land on top of a newer one.
 */

export const OBJECT_STATES = ['discovered', 'queued', 'transferring', 'done', 'failed', 'dead', 'superseded', 'skipped'] as const;
export type ObjectState = (typeof OBJECT_STATES)[number];

/** States in which an object still has to reach the core. */
export const PENDING_STATES: readonly ObjectState[] = ['discovered', 'queued', 'transferring', 'failed'];

export const PRIORITY_RANK = { critical: 0, high: 1, normal: 2, bulk: 3 } as const;
export type PriorityName = keyof typeof PRIORITY_RANK;
export const PRIORITY_NAMES: readonly PriorityName[] = ['critical', 'high', 'normal', 'bulk'];

export function priorityName(rank: number): PriorityName {
  return PRIORITY_NAMES[rank] ?? 'normal';
}
