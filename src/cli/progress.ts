/**
 * Progress of a sync pass: a live bar (objects, bytes, rate, ETA) when stderr is a terminal,
 * and nothing but the final summary line otherwise (logs and CI stay readable).
 */
import { createRequire } from 'node:module';

import type { SingleBar as SingleBarClass } from 'cli-progress';

import { formatBytes, formatDuration } from '../core/units.js';

export interface SyncProgress {
  /** True when a bar is drawn (totals are only worth computing then). */
  readonly interactive: boolean;
  setTotals(objects: number, bytes: number): void;
  objectDone(bytes: number): void;
  bytesSent(bytes: number): void;
  stop(): void;
  /** Bytes per second since start. */
  rate(): number;
  readonly elapsedMs: number;
}

export function createSyncProgress(interactive: boolean): SyncProgress {
  const started = Date.now();
  let totalObjects = 0;
  let totalBytes = 0;
  let doneObjects = 0;
  let sentBytes = 0;
  // Loaded only for a terminal: a sync pass in a script or under cron never draws a bar.
  const SingleBar = interactive
    ? (createRequire(import.meta.url)('cli-progress') as { SingleBar: typeof SingleBarClass }).SingleBar
    : undefined;
  const bar = SingleBar
    ? new SingleBar({
        format: ' {bar} {percentage}% | {value}/{total} objects | {sent}/{size} | {speed} | ETA {remaining}',
        barCompleteChar: '█',
        barIncompleteChar: '░',
        hideCursor: true,
        stream: process.stderr,
        fps: 5,
        etaBuffer: 50,
      })
    : undefined;
  const payload = () => {
    const elapsed = (Date.now() - started) / 1000;
    const speed = elapsed > 0 ? sentBytes / elapsed : 0;
    const remaining = Math.max(0, totalBytes - sentBytes);
    return {
      sent: formatBytes(sentBytes),
      size: formatBytes(totalBytes),
      speed: `${formatBytes(speed)}/s`,
      remaining: speed > 0 ? formatDuration((remaining / speed) * 1000) : '-',
    };
  };
  let barStarted = false;
  return {
    interactive: bar !== undefined,
    setTotals(objects, bytes) {
      totalObjects = objects;
      totalBytes = bytes;
      if (!bar) return;
      if (!barStarted) {
        bar.start(totalObjects, doneObjects, payload());
        barStarted = true;
      } else {
        bar.setTotal(totalObjects);
        bar.update(doneObjects, payload());
      }
    },
    objectDone() {
      doneObjects += 1;
      bar?.update(doneObjects, payload());
    },
    bytesSent(bytes) {
      sentBytes += bytes;
      bar?.update(doneObjects, payload());
    },
    stop() {
      if (barStarted) bar?.stop();
      barStarted = false;
    },
    rate() {
      const elapsed = (Date.now() - started) / 1000;
      return elapsed > 0 ? sentBytes / elapsed : 0;
    },
    get elapsedMs() {
      return Date.now() - started;
    },
  };
}
