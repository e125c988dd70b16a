/**
 * Writes manifests of what landed: plans a batch of landed, unlisted objects in the journal, then
 * writes its files to the core, then marks the batch written. A crash in between leaves the batch
 * planned; the next run writes the same files (same keys, same lines) before planning new ones.
 */
import { createHash } from 'node:crypto';

import { coerceError } from '../core/errors.js';
import type { Logger } from '../observability/logger.js';
import type { Journal } from '../ports/journal.js';
import type { LakeStore } from '../ports/lake-store.js';
import { manifestFiles } from '../report/manifest.js';

export const MANIFEST_BATCH_OBJECTS = 10_000;

export interface ManifestWriter {
  /** Writes every pending manifest; returns the number of objects listed. */
  flush(signal?: AbortSignal): Promise<number>;
}

export function createManifestWriter(options: {
  readonly site: string;
  readonly journal: Journal;
  readonly lake: LakeStore;
  readonly log: Logger;
}): ManifestWriter {
  const { journal, lake, site } = options;
  let running: Promise<number> | undefined;

  async function writeBatch(batch: { id: number; createdAt: number }, signal: AbortSignal | undefined): Promise<number> {
    const { files, lines } = manifestFiles(site, lake.bucket, batch, journal.manifestBatchObjects(batch.id));
    for (const [key, data] of files) {
      await lake.put(key, data, {
        metadata: {},
        contentMd5: createHash('md5').update(data).digest('base64'),
        contentType: 'application/x-ndjson',
        signal,
      });
    }
    journal.markManifestBatchWritten(batch.id);
    return lines;
  }

  async function flushAll(signal: AbortSignal | undefined): Promise<number> {
    let listed = 0;
    for (;;) {
      for (const batch of journal.unwrittenManifestBatches()) listed += await writeBatch(batch, signal);
      if (journal.planManifestBatch(MANIFEST_BATCH_OBJECTS) === undefined) return listed;
    }
  }

  return {
    flush(signal) {
      // One flush at a time: a timer and a shutdown never write the same batch at once.
      running ??= flushAll(signal)
        .catch((error: unknown) => {
          const err = coerceError(error);
          options.log.warn({ code: err.code, err: err.message }, 'manifests not written; will try again');
          return 0;
        })
        .finally(() => {
          running = undefined;
        });
      return running;
    },
  };
}
