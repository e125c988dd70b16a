import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `check` every 100 ms until it holds; fails after `timeoutMs` with `explain()` appended. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
  explain: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} ${explain()}`);
    await sleep(100);
  }
}
