/**
 * The life of one source object version in the journal:
 *
 *   discovered -> queued -> transferring -> done
 *                   ^            |
 *                   |            +-> failed (retry at next_attempt_at) -> transferring ...
 *                   |            +-> dead (permanent error, or attempts used up; `tributary retry` re-queues)
 *                   |            +-> vanished (the edge answered 404 and no longer lists the key)
 *                   +------------+-> queued (released: shutdown, throttled, endpoint unreachable)
 *   dead -> forgotten (acknowledged by `tributary forget`, with a recorded reason)
 *   done | dead | vanished | forgotten -> queued (`verify --repair`: missing or different in the core;
 *                   a done one also by edge retention when its core copy is gone): a re-landing
 *   vanished -> queued (a scan lists that very version again: it was not gone after all)
 *   any pending state -> superseded (a newer version of the same key was seen)
 *   discovered -> skipped (excluded by a rule)
 *
 * `vanished` and `forgotten` are terminal and never retried: neither pending, failed nor dead,
 * they do not make `sync --once` exit 1 or a site `failing`; `status`, the heartbeat and the
 * metrics count them.
 *
 * Only one version of a key is ever `transferring`: a newer version waits until the older one
 * has finished, so an older version can never land on top of a newer one.
 */

export const OBJECT_STATES = [
  'discovered',
  'queued',
  'transferring',
  'done',
  'failed',
  'dead',
  'superseded',
  'skipped',
  'vanished',
  'forgotten',
] as const;
export type ObjectState = (typeof OBJECT_STATES)[number];

/** States in which an object still has to reach the core. */
export const PENDING_STATES: readonly ObjectState[] = ['discovered', 'queued', 'transferring', 'failed'];

/** Terminal states of versions that never landed and are no failure: counted and listed, never retried. */
export const SETTLED_STATES = ['vanished', 'forgotten'] as const;
export type SettledState = (typeof SETTLED_STATES)[number];

/**
 * Why a version lands again, or was landed by a repair: `repair` (queued by `verify --repair`),
 * `core-copy-missing` (edge retention found its core copy gone). Kept in the journal, written in
 * the manifest line of that landing, and counted when it lands.
 */
export const LANDING_REASONS = ['repair', 'core-copy-missing'] as const;
export type LandingReason = (typeof LANDING_REASONS)[number];

export const PRIORITY_RANK = { critical: 0, high: 1, normal: 2, bulk: 3 } as const;
export type PriorityName = keyof typeof PRIORITY_RANK;
export const PRIORITY_NAMES: readonly PriorityName[] = ['critical', 'high', 'normal', 'bulk'];

export function priorityName(rank: number): PriorityName {
  return PRIORITY_NAMES[rank] ?? 'normal';
}
