/**
 * Link down is not object broken. After `threshold` consecutive `unreachable` failures across
 * all transfers the circuit opens: the runner stops claiming and a single probe at a time (with
 * growing, jittered delays) asks the endpoint whether it is back. The first success closes it.
 * Attempts keep measuring problems with one object, not with the WAN.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import type { Side } from '../core/side.js';
import { backoffDelayMs } from './policy/backoff.js';
import type { Clock } from '../ports/clock.js';

export interface CircuitBreaker {
  readonly isOpen: boolean;
  /** When the circuit opened (ms), while it is open. */
  readonly openedAt: number | undefined;
  readonly side: Side | undefined;
  recordSuccess(): void;
  recordUnreachable(side: Side): void;
  /** Probes until the endpoint answers; resolves when the circuit is closed again. */
  probeUntilClosed(signal: AbortSignal): Promise<void>;
}

export interface CircuitBreakerOptions {
  readonly threshold: number;
  readonly probe: (side: Side, signal: AbortSignal) => Promise<void>;
  readonly clock: Clock;
  readonly probeBaseMs?: number;
  readonly probeCapMs?: number;
  readonly onChange?: (open: boolean, side: Side) => void;
}

export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  let consecutive = 0;
  let openedAt: number | undefined;
  let side: Side | undefined;
  const settings = { baseMs: options.probeBaseMs ?? 500, capMs: options.probeCapMs ?? 30_000 };

  const close = () => {
    if (openedAt !== undefined && side !== undefined) options.onChange?.(false, side);
    consecutive = 0;
    openedAt = undefined;
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
    recordUnreachable(failedSide) {
      consecutive += 1;
      side = failedSide;
      if (openedAt === undefined && consecutive >= options.threshold) {
        openedAt = options.clock.now();
        options.onChange?.(true, failedSide);
      }
    },
    async probeUntilClosed(signal) {
      for (let probe = 1; openedAt !== undefined; probe += 1) {
        await sleep(backoffDelayMs(probe, settings), undefined, { signal });
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
