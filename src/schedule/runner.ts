/**
 * Pulls runnable objects from the journal with bounded concurrency, replicates each, and maps
 * every outcome to one journal write. The error class decides (see core/errors.ts):
 *
 *   success      -> done
 *   transient    -> failed, attempts+1, next attempt after jittered backoff; dead past maxAttempts
 *   throttled    -> queued again after max(Retry-After, backoff); no attempt used
 *   unreachable  -> queued again, no attempt used; feeds the circuit breaker (one probe at a time
 *                   while the endpoint is down). An object that keeps failing this way while the
 *                   endpoint is otherwise fine starts using attempts after MAX_DEFERRALS. This
 *                   covers an endpoint that refuses the credentials, fails TLS or is no S3 too:
 *                   an outage with its reason, not a reason to stop.
 *   transient    -> as unreachable instead, when it is a 5xx of an endpoint the health record
 *                   already holds for down (`endpointDown`): the outage's, not the object's.
 *   superseded   -> the edge is asked for the current version (the error says the version changed,
 *                   is gone, or read wrong), which is journaled (and so queued): this version becomes
 *                   superseded; `vanished` when the edge lists nothing at its key any more (deleted
 *                   before it could be read: terminal, not a failure, no attempt used); the very same
 *                   version listed is an ordinary transient failure (a 404 for a listed object says so)
 *   permanent    -> dead with its reason
 *   cancelled    -> queued again (shutdown)
 *   fatal        -> queued again, and the runner stops with that error (the journal failed)
 *
 * Claims happen only when a slot is free (pull, not push).
 */
import { setMaxListeners } from 'node:events';

import { coerceError, outageOf, TributaryError } from '../core/errors.js';
import { backoffDelayMs, type BackoffSettings } from './policy/backoff.js';
import type { Clock } from '../ports/clock.js';
import type { Journal, JournalObject } from '../ports/journal.js';
import type { Side } from '../core/side.js';
import { createWaker } from '../core/waker.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { Transfer, TransferResult } from '../ports/transfer.js';

export const MAX_DEFERRALS = 50;

/**
 * How long an object waits after an `unreachable` failure: a short schedule of its own, not
 * transfer.retryBase/retryCap. Those pace an object's own problems (minutes on a metered link);
 * a link failure is paced by the circuit breaker, and the object must be runnable again as soon
 * as the link is back, or the backlog would wait out a per-object backoff after every outage.
 */
export const DEFERRAL_BACKOFF: BackoffSettings = { baseMs: 500, capMs: 30_000 };

export interface RunnerHooks {
  onStart?(job: JournalObject): void;
  onLanded?(job: JournalObject, result: TransferResult, durationMs: number): void;
  /** `nextAttemptAt`: when the object runs again (a retry or a release with a delay). */
  onFailed?(
    job: JournalObject,
    error: TributaryError,
    outcome: 'retry' | 'dead' | 'released' | 'superseded' | 'vanished',
    nextAttemptAt?: number,
  ): void;
}

export interface RunnerOptions {
  readonly journal: Journal;
  readonly clock: Clock;
  readonly concurrency: number;
  readonly maxAttempts: number;
  readonly backoff: BackoffSettings;
  readonly breaker: CircuitBreaker;
  readonly replicate: Transfer;
  /** Looks the object up at the edge again and journals what is there now; 'gone' if nothing. */
  readonly refresh: (job: JournalObject, signal: AbortSignal) => Promise<'changed' | 'same' | 'gone'>;
  readonly markSuperseded: (job: JournalObject, reason: string) => void;
  /** The object is gone from the edge (refresh found nothing at its key): journal it vanished. */
  readonly markVanished: (job: JournalObject, reason: string) => void;
  /** Whether the endpoint health record holds `side` for unreachable now. */
  readonly endpointDown?: (side: Side) => boolean;
  readonly hooks?: RunnerHooks;
}

export interface RunOptions {
  /**
   * `once`: stop when nothing is runnable now and no retry is due within `retryHorizonMs`
   * (sync --once). `forever`: keep going until the signal aborts (the agent).
   */
  readonly mode: 'once' | 'forever';
  readonly retryHorizonMs?: number;
  /** In `once` mode: give up when an endpoint has been unreachable this long. */
  readonly maxOutageMs?: number;
  readonly signal: AbortSignal;
  /** After `signal`, in-flight transfers get this long to finish before they are aborted and released. */
  readonly drainMs?: number;
  /** Aborts in-flight transfers at once (a second signal). */
  readonly forceSignal?: AbortSignal;
  /** Resolves when new work may have arrived; the runner then claims again. */
  readonly wake?: () => Promise<void>;
  /** In `once` mode: true while a producer (the scan) may still add work, so idle is not the end. */
  readonly moreComing?: () => boolean;
}

export interface RunSummary {
  readonly landed: number;
  readonly failed: number;
  readonly dead: number;
  /** Deleted at the edge before they could be read. */
  readonly vanished: number;
  readonly stoppedBy: 'idle' | 'signal' | 'fatal' | 'outage';
  readonly fatal?: TributaryError;
}

export interface Runner {
  run(options: RunOptions): Promise<RunSummary>;
  readonly inFlight: number;
}

export function createRunner(options: RunnerOptions): Runner {
  const { journal, clock, breaker } = options;
  const active = new Map<number, Promise<void>>();
  let landed = 0;
  let failed = 0;
  let dead = 0;
  let vanished = 0;
  let fatal: TributaryError | undefined;
  let onSettled: () => void = () => undefined;

  async function settle(job: JournalObject, error: unknown, signal: AbortSignal): Promise<void> {
    let err = coerceError(error);
    const now = clock.now();
    const hooks = options.hooks;
    const outage = outageOf(err);
    const errorClass =
      err.errorClass === 'transient' && outage !== undefined && options.endpointDown?.(outage.side) === true
        ? 'unreachable'
        : err.errorClass;
    switch (errorClass) {
      case 'cancelled':
        journal.release(job.id);
        hooks?.onFailed?.(job, err, 'released');
        return;
      case 'fatal':
        journal.release(job.id, { code: err.code, message: err.message });
        fatal ??= err;
        hooks?.onFailed?.(job, err, 'released');
        return;
      case 'throttled': {
        const delay = backoffDelayMs(job.deferrals + 1, options.backoff, err.retryAfterSeconds);
        journal.release(job.id, { nextAttemptAt: now + delay, code: err.code, message: err.message });
        hooks?.onFailed?.(job, err, 'released', now + delay);
        return;
      }
      case 'unreachable':
        breaker.recordUnreachable(outage?.side ?? 'core', outage?.reason ?? 'network', err.message);
        if (job.deferrals < MAX_DEFERRALS) {
          // 0.5 s, 1 s, 2 s ... up to 30 s: prompt after an outage (an object is deferred once or
          // twice by one), and MAX_DEFERRALS still spans about 20 minutes for an object that
          // keeps failing so on its own while the link works for the others.
          const delay = backoffDelayMs(Math.min(job.deferrals + 1, 7), DEFERRAL_BACKOFF);
          journal.release(job.id, { nextAttemptAt: now + delay, code: err.code, message: err.message });
          hooks?.onFailed?.(job, err, 'released', now + delay);
          return;
        }
        break;
      case 'superseded': {
        let found: 'changed' | 'same' | 'gone';
        try {
          found = await options.refresh(job, signal);
        } catch (refreshError) {
          return settle(job, refreshError, signal);
        }
        if (found === 'changed') {
          options.markSuperseded(job, err.message);
          hooks?.onFailed?.(job, err, 'superseded');
          return;
        }
        if (found === 'gone') {
          const gone = new TributaryError(
            'TRIB_ERR_SOURCE_GONE',
            `edge ${job.bucket}/${job.key}: deleted at the edge before it could be read (${err.message}; the edge no longer lists the key)`,
            { cause: err },
          );
          options.markVanished(job, gone.message);
          vanished += 1;
          hooks?.onFailed?.(job, gone, 'vanished');
          return;
        }
        // The same version after all: an ordinary transient failure. A 404 for an object the edge
        // still lists is said as such (a listing that lags behind a deletion, or a proxy's 404).
        if (err.code === 'TRIB_ERR_SOURCE_GONE') {
          err = new TributaryError(err.code, `${err.message}; yet the edge still lists this version: tried again`, { cause: err });
        }
        break;
      }
      case 'permanent':
        journal.markFailed(job.id, { code: err.code, message: err.message, outcome: 'dead', consumeAttempt: true, nextAttemptAt: 0 });
        dead += 1;
        hooks?.onFailed?.(job, err, 'dead');
        return;
      case 'transient':
        break;
    }
    const attempts = job.attempts + 1;
    if (attempts >= options.maxAttempts) {
      const message = `gave up after ${attempts} attempts: ${err.message}`;
      journal.markFailed(job.id, { code: err.code, message, outcome: 'dead', consumeAttempt: true, nextAttemptAt: 0 });
      dead += 1;
      hooks?.onFailed?.(job, err, 'dead');
      return;
    }
    const delay = backoffDelayMs(attempts, options.backoff);
    journal.markFailed(job.id, {
      code: err.code,
      message: err.message,
      outcome: 'retry',
      consumeAttempt: true,
      nextAttemptAt: now + delay,
    });
    failed += 1;
    hooks?.onFailed?.(job, err, 'retry', now + delay);
  }

  function start(job: JournalObject, signal: AbortSignal): void {
    const startedAt = clock.now();
    options.hooks?.onStart?.(job);
    const task = (async () => {
      try {
        const result = await options.replicate(job, signal);
        journal.markLanded(job.id, result);
        breaker.recordSuccess();
        landed += 1;
        options.hooks?.onLanded?.(job, result, clock.now() - startedAt);
      } catch (error) {
        await settle(job, signal.aborted ? new TributaryError('TRIB_ERR_CANCELLED', 'shutdown', { cause: error }) : error, signal);
      }
    })()
      .catch((error: unknown) => {
        // A journal write failed while settling: nothing can be trusted any more.
        fatal ??= coerceError(error);
      })
      .finally(() => {
        active.delete(job.id);
        onSettled();
      });
    active.set(job.id, task);
  }

  return {
    get inFlight() {
      return active.size;
    },
    async run(run) {
      const { signal } = run;
      const work = new AbortController();
      setMaxListeners(0, work.signal);
      const onForce = () => work.abort(run.forceSignal?.reason);
      run.forceSignal?.addEventListener('abort', onForce, { once: true });
      let stoppedBy: RunSummary['stoppedBy'] = 'idle';
      const runStartedAt = clock.now();
      const prefetched: JournalObject[] = [];
      // The loop sleeps on one waker that every event notifies: a transfer ending, a stop, new
      // work, a timer. (Racing a long-lived promise instead would add a reaction to it on every
      // turn of the loop: memory that grows with the number of objects.)
      const changed = createWaker();
      const onStop = () => changed.notify();
      signal.addEventListener('abort', onStop, { once: true });
      onSettled = () => changed.notify();
      let running = true;
      if (run.wake) {
        const wake = run.wake;
        void (async () => {
          while (running) {
            await wake();
            changed.notify();
          }
        })();
      }
      /** Sleeps until something happens, or `ms` at most. */
      const waitForChange = async (ms?: number) => {
        const timer = ms === undefined ? undefined : setTimeout(() => changed.notify(), ms);
        await changed.wait();
        clearTimeout(timer);
      };
      // How long the endpoint has been down as far as this run is concerned.
      const outageSoFar = () => clock.now() - Math.max(breaker.openedAt ?? clock.now(), runStartedAt);
      try {
        for (;;) {
          if (fatal) {
            stoppedBy = 'fatal';
            break;
          }
          if (signal.aborted) {
            stoppedBy = 'signal';
            break;
          }
          if (breaker.isOpen) {
            if (active.size > 0) {
              await waitForChange();
              continue;
            }
            if (run.mode === 'once' && run.maxOutageMs !== undefined && outageSoFar() >= run.maxOutageMs) {
              stoppedBy = 'outage';
              break;
            }
            const probing = new AbortController();
            const timer =
              run.mode === 'once' && run.maxOutageMs !== undefined
                ? setTimeout(() => probing.abort(), Math.max(0, run.maxOutageMs - outageSoFar()))
                : undefined;
            try {
              await breaker.probeUntilClosed(AbortSignal.any([signal, probing.signal]));
            } catch {
              // aborted: the loop decides what that means
            } finally {
              clearTimeout(timer);
            }
            continue;
          }
          // Claims come in batches (one journal transaction for up to `concurrency` objects);
          // what is claimed but not started yet waits in `prefetched`.
          let free = options.concurrency - active.size;
          if (free > 0 && prefetched.length === 0) prefetched.push(...journal.claim(options.concurrency));
          while (free > 0 && prefetched.length > 0) {
            start(prefetched.shift()!, work.signal);
            free -= 1;
          }
          if (active.size > 0) {
            await waitForChange();
            continue;
          }
          // Nothing running and nothing claimable now.
          const next = journal.nextAttemptAt();
          if (run.mode === 'once' && run.moreComing?.() === true) {
            await waitForChange(1000);
            continue;
          }
          if (run.mode === 'once') {
            const horizon = run.retryHorizonMs ?? 0;
            if (next === undefined || next - clock.now() > horizon) break;
          }
          await waitForChange(next === undefined ? 60_000 : Math.max(10, Math.min(60_000, next - clock.now())));
        }
      } finally {
        running = false;
        signal.removeEventListener('abort', onStop);
        for (const job of prefetched.splice(0)) journal.release(job.id);
        const deadline = setTimeout(() => work.abort(new Error('drain deadline')), signal.aborted ? (run.drainMs ?? 0) : 0);
        if (fatal || stoppedBy === 'outage') work.abort(new Error('runner stopped'));
        await Promise.allSettled([...active.values()]);
        clearTimeout(deadline);
        run.forceSignal?.removeEventListener('abort', onForce);
      }
      if (fatal) stoppedBy = 'fatal';
      return { landed, failed, dead, vanished, stoppedBy, ...(fatal ? { fatal } : {}) };
    },
  };
}
