/**
 * How long to wait before the next attempt of an object: exponential with full-ish jitter,
 * `min(base * 2^(attempt-1), cap) * (0.5 + random())`, and never less than what the server asked
 * for with Retry-After. Pure: the random source is injected so tests can pin it.
 */

export interface BackoffSettings {
  readonly baseMs: number;
  readonly capMs: number;
}

export function backoffDelayMs(
  attempt: number,
  settings: BackoffSettings,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, attempt - 1);
  const raw = Math.min(settings.baseMs * 2 ** Math.min(exponent, 30), settings.capMs);
  const jittered = Math.round(raw * (0.5 + random()));
  const floor = retryAfterSeconds === undefined ? 0 : retryAfterSeconds * 1000;
  return Math.max(jittered, floor);
}
