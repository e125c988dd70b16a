/**
 * Progress of a sync pass: a live bar (bytes, objects, rate, ETA) when stderr is a terminal,
 * and nothing but the final summary line otherwise (logs and CI stay readable).
 */
import { createRequire } from 'node:module';

import type { SingleBar as SingleBarClass } from 'cli-progress';

import { formatBytes, formatDuration } from '../core/units.js';
import { createTransferRate } from './transfer-rate.js';

export interface SyncProgress {
  /** True when a bar is drawn (totals are only worth computing then). */
  readonly interactive: boolean;
  setTotals(objects: number, bytes: number): void;
  /** An object landed; `alreadyPresent` when the core held it and none of its bytes were sent. */
  objectDone(bytes: number, alreadyPresent: boolean): void;
  bytesSent(bytes: number): void;
  stop(): void;
  readonly elapsedMs: number;
  /** What the bar shows now: its value and total (bytes) and the fields beside it. */
  snapshot(): { readonly value: number; readonly total: number; readonly fields: Record<string, string | number> };
}

/**
 * The bar advances by bytes (sent, or found in the core already), not by objects: one 10 GiB
 * object and a thousand 1 KiB ones are not the same progress. The ETA comes from a moving rate
 * (transfer-rate.ts), so it counts down steadily instead of swinging with each object.
 */
export function createSyncProgress(interactive: boolean, clock: () => number = Date.now): SyncProgress {
  const started = clock();
  let totalObjects = 0;
  let totalBytes = 0;
  let doneObjects = 0;
  let doneBytes = 0;
  const rate = createTransferRate();
  // Loaded only for a terminal: a sync pass in a script or under cron never draws a bar.
  const SingleBar = interactive
    ? (createRequire(import.meta.url)('cli-progress') as { SingleBar: typeof SingleBarClass }).SingleBar
    : undefined;
  const bar = SingleBar
    ? new SingleBar({
        format: ' {bar} {percentage}% | {done}/{size} | {objects}/{totalObjects} objects | {speed} | ETA {eta}',
        barCompleteChar: '█',
        barIncompleteChar: '░',
        hideCursor: true,
        stream: process.stderr,
        fps: 5,
      })
    : undefined;
  const value = () => Math.min(doneBytes, totalBytes);
  const payload = () => {
    const now = clock();
    const eta = rate.etaMs(totalBytes - doneBytes, now);
    return {
      done: formatBytes(value()),
      size: formatBytes(totalBytes),
      objects: doneObjects,
      totalObjects,
      speed: `${formatBytes(rate.bytesPerSecond(now))}/s`,
      eta: eta === undefined ? '-' : formatDuration(eta),
    };
  };
  let barStarted = false;
  const redraw = () => bar?.update(value(), payload());
  const add = (bytes: number) => {
    doneBytes += bytes;
    rate.add(bytes, clock());
    redraw();
  };
  return {
    interactive: bar !== undefined,
    setTotals(objects, bytes) {
      totalObjects = objects;
      totalBytes = bytes;
      if (!bar) return;
      if (!barStarted) {
        bar.start(Math.max(1, totalBytes), value(), payload());
        barStarted = true;
      } else {
        bar.setTotal(Math.max(1, totalBytes));
        redraw();
      }
    },
    objectDone(bytes, alreadyPresent) {
      doneObjects += 1;
      if (alreadyPresent) add(bytes);
      else redraw();
    },
    bytesSent: add,
    stop() {
      if (barStarted) bar?.stop();
      barStarted = false;
    },
    get elapsedMs() {
      return clock() - started;
    },
    snapshot: () => ({ value: value(), total: totalBytes, fields: payload() }),
  };
}
