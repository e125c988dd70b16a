/**
 * What POST /events does with a parsed body: keep the records of configured buckets and prefixes,
 * journal the created versions in one transaction (so the 2xx the sender gets means "kept"), count
 * the rest. A version already journaled (by an earlier event or a scan) is a duplicate: it is not
 * queued again. Removals are ignored and counted (archive semantics, DESIGN.md).
 */
import { decide, type Rule } from '../core/rules.js';
import type { Journal } from '../ports/journal.js';
import { EventBodyError, parseS3Events, type KeyEncoding } from './s3-events.js';
import type { ScanTarget } from './scanner.js';

export type EventOutcome = 'accepted' | 'duplicate' | 'out_of_scope' | 'removed_ignored' | 'removed_propagated' | 'other_kind';

export interface EventIntakeOptions {
  readonly journal: Journal;
  readonly targets: readonly ScanTarget[];
  readonly rules: readonly Rule[];
  readonly keyEncoding: KeyEncoding;
  readonly now: () => Date;
  /** Called after the journal commit when something new was queued. */
  readonly onQueued: () => void;
  /** deletes: propagate — removals become journaled deletion requests, then onDeletions runs. */
  readonly propagateDeletes: boolean;
  readonly onDeletions: () => void;
  readonly count: (outcome: EventOutcome, n: number) => void;
}

export interface EventAnswer {
  readonly status: number;
  readonly body: unknown;
}

export function createEventIntake(options: EventIntakeOptions): (body: unknown) => EventAnswer {
  const inScope = (bucket: string, key: string) => options.targets.some((t) => t.name === bucket && key.startsWith(t.prefix));
  return (body) => {
    let parsed;
    try {
      parsed = parseS3Events(body, options.keyEncoding, options.now());
    } catch (error) {
      if (error instanceof EventBodyError) return { status: 400, body: { error: error.message } };
      throw error;
    }
    const kept = parsed.created.filter((o) => inScope(o.bucket, o.key));
    const outcomes =
      kept.length === 0
        ? []
        : options.journal.recordSeen(
            kept,
            (o) => {
              const decision = decide(options.rules, o.bucket, o.key);
              return { priority: decision.priority, excluded: decision.excluded };
            },
            'event',
          );
    const accepted = outcomes.filter((o) => o !== 'unchanged').length;
    const removals = parsed.removed.filter((r) => inScope(r.bucket, r.key));
    let propagated = 0;
    if (options.propagateDeletes) {
      for (const removal of removals) if (options.journal.requestDeletion(removal.bucket, removal.key, 'event')) propagated += 1;
    }
    const tally = {
      accepted,
      duplicate: outcomes.length - accepted,
      out_of_scope: parsed.created.length - kept.length + parsed.removed.length - removals.length,
      removed_ignored: removals.length - propagated,
      removed_propagated: propagated,
      other_kind: parsed.otherKinds,
    } satisfies Record<EventOutcome, number>;
    for (const [outcome, n] of Object.entries(tally) as [EventOutcome, number][]) if (n > 0) options.count(outcome, n);
    if (accepted > 0) options.onQueued();
    if (propagated > 0) options.onDeletions();
    return { status: 200, body: tally };
  };
}
