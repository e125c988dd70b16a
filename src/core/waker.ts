/** Lets producers (the scanner, the event endpoint) tell the idle runner that work arrived. */
export interface Waker {
  wait(): Promise<void>;
  notify(): void;
}

export function createWaker(): Waker {
  let resolve: (() => void) | undefined;
  let pending: Promise<void> | undefined;
  return {
    wait() {
      pending ??= new Promise<void>((r) => {
        resolve = r;
      });
      return pending;
    },
    notify() {
      const r = resolve;
      pending = undefined;
      resolve = undefined;
      r?.();
    },
  };
}
