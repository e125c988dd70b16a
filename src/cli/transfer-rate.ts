/**
 * The rate and ETA a progress bar shows. Bytes arrive in bursts (a single PUT reports its whole
 * object when the core answers), so each burst is taken as having arrived evenly since the one
 * before it, and the rate is a moving average of those (time constant `tauSeconds`): steady while
 * the link's real rate is, following it within a minute when it changes. When nothing arrives for
 * much longer than the usual gap, the shown rate falls, so a stalled link shows no false ETA.
 */

export interface TransferRate {
  /** `bytes` finished at `atMs`. */
  add(bytes: number, atMs: number): void;
  bytesPerSecond(atMs: number): number;
  /** Milliseconds until `remaining` more bytes are done at the current rate; undefined without a rate. */
  etaMs(remaining: number, atMs: number): number | undefined;
}

export function createTransferRate(tauSeconds = 20): TransferRate {
  let startedAt: number | undefined;
  let lastAt: number | undefined;
  let rate = 0;
  /** The usual gap between bursts, averaged like the rate. */
  let gapMs = 0;

  const current = (atMs: number): number => {
    if (lastAt === undefined) return 0;
    const quiet = atMs - lastAt;
    // Longer than twice the usual gap (at least 5 s) without a byte: the rate is no longer current.
    const patience = Math.max(5000, 2 * gapMs);
    return quiet <= patience ? rate : rate * (patience / quiet);
  };

  return {
    add(bytes, atMs) {
      if (startedAt === undefined) {
        // The first burst has no gap before it: its time since the start of the run is unknown.
        startedAt = atMs;
        lastAt = atMs;
        return;
      }
      const dtMs = Math.max(1, atMs - lastAt!);
      const instant = (bytes * 1000) / dtMs;
      const weight = 1 - Math.exp(-dtMs / 1000 / tauSeconds);
      // Until the average has seen tau seconds, weigh what there is evenly (no slow ramp from 0).
      const seen = (atMs - startedAt) / 1000;
      const w = seen < tauSeconds ? dtMs / 1000 / seen : weight;
      rate += w * (instant - rate);
      gapMs += w * (dtMs - gapMs);
      lastAt = atMs;
    },
    bytesPerSecond: current,
    etaMs(remaining, atMs) {
      const perSecond = current(atMs);
      if (perSecond <= 0) return undefined;
      return (Math.max(0, remaining) / perSecond) * 1000;
    },
  };
}
