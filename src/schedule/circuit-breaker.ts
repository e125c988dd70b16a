/**
 * Link down is not object broken. After `threshold` consecutive endpoint failures across all
 * transfers (unreachable, credentials refused, TLS, not S3) the circuit opens, with the side and
 * the reason of the last one: the runner stops claiming and a single probe at a time (with
 * growing, jittered delays) asks the endpoint whether it is back. The first success closes it,
 * and so does `recordSuccess` from elsewhere (the endpoint health record heard from the endpoint):
 * a probe waiting out its delay then stops at once. Attempts keep measuring problems with one
 * object, not with the WAN.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import type { OutageReason } from '../core/errors.js';
import type { Side } from '../core/side.js';
import { backoffDelayMs } from './policy/backoff.js';
import type { Clock } from '../ports/clock.js';

export interface CircuitBreaker {
  readonly isOpen: boolean;
  /** When the circuit opened (ms), while it is open. */
  readonly openedAt: number | undefined;
  readonly side: Side | undefined;
  recordSuccess(): void;
  /** One transfer failed because `side` does not serve us; `detail` is the error's message. */
  recordUnreachable(side: Side, reason: OutageReason, detail: string): void;
  /** Probes until the endpoint answers; resolves when the circuit is closed again. */
  probeUntilClosed(signal: AbortSignal): Promise<void>;
}

export interface CircuitBreakerOptions {
  readonly threshold: number;
  readonly probe: (side: Side, signal: AbortSignal) => Promise<void>;
  readonly clock: Clock;
  readonly probeBaseMs?: number;
  readonly probeCapMs?: number;
  /** Opened (with the reason and detail of the failure that opened it) or closed. */
  readonly onChange?: (open: boolean, side: Side, reason: OutageReason | undefined, detail: string | undefined) => void;
}

export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  let consecutive = 0;
  let openedAt: number | undefined;
  let side: Side | undefined;
  // Aborted when the circuit closes, so a probe's delay ends with it.
  let closed = new AbortController();
  const settings = { baseMs: options.probeBaseMs ?? 500, capMs: options.probeCapMs ?? 30_000 };

  const close = () => {
    consecutive = 0;
    if (openedAt === undefined) return;
    openedAt = undefined;
    closed.abort();
    if (side !== undefined) options.onChange?.(false, side, undefined, undefined);
  };

  return {
    get isOpen() {
      return openedAt !== undefined;
    },
    get openedAt() {
      return openedAt;
    },
    get side() {
      return side;
    },
    recordSuccess: close,
    recordUnreachable(failedSide, reason, detail) {
      consecutive += 1;
      side = failedSide;
      if (openedAt === undefined && consecutive >= options.threshold) {
        openedAt = options.clock.now();
        closed = new AbortController();
        options.onChange?.(true, failedSide, reason, detail);
      }
    },
    async probeUntilClosed(signal) {
      for (let probe = 1; openedAt !== undefined; probe += 1) {
        const waiting = AbortSignal.any([signal, closed.signal]);
        await sleep(backoffDelayMs(probe, settings), undefined, { signal: waiting }).catch((error: unknown) => {
          if (signal.aborted) throw error;
        });
        if (openedAt === undefined) return;
        try {
          await options.probe(side ?? 'core', signal);
          close();
        } catch {
          signal.throwIfAborted();
        }
      }
    },
  };
}
