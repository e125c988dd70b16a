/**
 * A byte semaphore shared by every transfer: object data is buffered (a small object whole, a
 * large one part by part) only while the buffered total stays under `transfer.memoryLimit`.
 * Waiters are served in order, so a large part is not starved by a stream of small objects.
 */

export interface MemoryBudget {
  /** Resolves with a release function once `bytes` fit under the limit. */
  acquire(bytes: number, signal?: AbortSignal): Promise<() => void>;
  readonly inUse: number;
}

export function createMemoryBudget(limit: number): MemoryBudget {
  if (!Number.isSafeInteger(limit) || limit <= 0) {
    throw new TypeError(`memory limit: expected a positive integer, got ${String(limit)} (${typeof limit})`);
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
