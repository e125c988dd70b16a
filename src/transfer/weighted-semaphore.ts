/**
 * A weighted FIFO semaphore. Two uses: the memory budget shared by every transfer (object data
 * is buffered, a small object whole or a large one part by part, only while the buffered bytes
 * stay under `transfer.memoryLimit`), and the limit on concurrent hashing passes. Waiters are
 * served in order, so a large request is not starved by a stream of small ones; a request larger
 * than the limit is clamped to it (it then runs alone).
 */

export interface WeightedSemaphore {
  /** Resolves with a release function once `weight` fits under the limit. */
  acquire(weight: number, signal?: AbortSignal): Promise<() => void>;
  readonly inUse: number;
}

export function createWeightedSemaphore(limit: number): WeightedSemaphore {
  if (!Number.isSafeInteger(limit) || limit <= 0) {
    throw new TypeError(`semaphore limit: expected a positive integer, got ${String(limit)} (${typeof limit})`);
  }
  let inUse = 0;
  const waiters: { bytes: number; resolve: () => void }[] = [];

  function pump(): void {
    while (waiters.length > 0) {
      const next = waiters[0]!;
      if (inUse > 0 && inUse + next.bytes > limit) return;
      waiters.shift();
      inUse += next.bytes;
      next.resolve();
    }
  }

  return {
    get inUse() {
      return inUse;
    },
    acquire(requested, signal) {
      const bytes = Math.min(Math.max(0, requested), limit);
      return new Promise((resolve, reject) => {
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          inUse -= bytes;
          pump();
        };
        const waiter = {
          bytes,
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve(release);
          },
        };
        const onAbort = () => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) waiters.splice(index, 1);
          reject(signal?.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'));
          pump();
        };
        if (signal?.aborted) {
          onAbort();
          return;
        }
        signal?.addEventListener('abort', onAbort, { once: true });
        waiters.push(waiter);
        pump();
      });
    },
  };
}
