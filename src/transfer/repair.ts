/**
 * `verify --repair`: what verify found missing or different in the core is put back in the queue
 * (the runner then lands it, in the same run), or adopted when the core is proven to hold it after
 * all. Every version queued here lands as a repair: `landing_reason = 'repair'` in the journal,
 * `"relanding": "repair"` in the manifest line of that landing, and counted when it lands.
 *   reland   a done version whose core copy is missing or differs: queued again (requeueMissing);
 *            a copy that differs marks its core key suspect first, so that the upload does not take
 *            the wrong copy it would find with a HEAD for ours.
 *   requeue  a dead, vanished or forgotten version the edge still holds: queued with fresh attempts.
 *   journal  an edge version the journal lacks (or newer than the one it holds): adopted when the
 *            core copy at its key is proven to be it by a HEAD of its lineage, with the edge
 *            object's headers, as a new journal's first pass would without a manifest line (but
 *            no manifest line is written for it: a manifest may list it already); else journaled
 *            and queued, its core key suspect if some other copy is there.
 */
import { decide, type Rule } from '../core/rules.js';
import { coreKeyFor, type KeyTemplateSettings } from '../land/core-key-for.js';
import { headerDifferences } from '../land/object-metadata.js';
import type { Journal, JournalObject } from '../ports/journal.js';
import type { LakeHead, LakeStore } from '../ports/lake-store.js';
import type { SourceObject, SourceStore } from '../ports/source-store.js';
import { headProof } from './adopt.js';

export type RepairAction =
  | { readonly kind: 'reland'; readonly row: JournalObject; readonly coreCopy: 'missing' | 'different'; readonly detail: string }
  | { readonly kind: 'requeue'; readonly row: JournalObject }
  | { readonly kind: 'journal'; readonly object: SourceObject };

/**
 * queued: queued again, it lands in this run; journaled: the journal lacked it, now queued;
 * adopted: the core holds it, journaled as landed; unchanged: nothing to do (already on its way).
 */
export type RepairOutcome = 'queued' | 'journaled' | 'adopted' | 'unchanged';

export interface RepairDeps {
  readonly journal: Journal;
  readonly lake: LakeStore;
  readonly source: SourceStore;
  readonly keys: KeyTemplateSettings;
  readonly rules: readonly Rule[];
}

/**
 * Whether the core copy holds `object` with the edge object's headers: the SHA-256 its lineage
 * vouches for (headProof: this site, source bucket, key, ETag and Last-Modified), or undefined
 * when not proven. The same bytes without that lineage (another tool's copy, or the copy of an
 * older version whose headers changed at the edge) are not this version: it lands again.
 */
async function provenCopy(
  deps: RepairDeps,
  object: SourceObject,
  head: LakeHead,
  signal: AbortSignal | undefined,
): Promise<{ readonly sha256: string } | undefined> {
  const sha256 = headProof(head, object, deps.keys.site);
  if (sha256 === undefined) return undefined;
  const edge = await deps.source.head(object, { signal });
  if (edge.etag !== object.etag || edge.size !== object.size) return undefined;
  return headerDifferences(edge.headers, head).length === 0 ? { sha256 } : undefined;
}

async function journalVersion(deps: RepairDeps, object: SourceObject, signal: AbortSignal | undefined): Promise<RepairOutcome> {
  const { journal, lake } = deps;
  const decision = decide(deps.rules, object.bucket, object.key);
  let coreKey: string | undefined;
  try {
    coreKey = coreKeyFor(deps.keys, { bucket: object.bucket, key: object.key, mtimeMs: object.mtime.getTime() });
  } catch {
    coreKey = undefined; // journaled all the same: it goes dead there, with the reason
  }
  const head = coreKey === undefined || journal.isCoreCopySuspect(coreKey) ? undefined : await lake.head(coreKey, { signal });
  let otherCopy = false;
  if (coreKey !== undefined && head !== undefined) {
    const proven = await provenCopy(deps, object, head, signal);
    if (proven !== undefined) {
      // Only a key the journal has never seen is adopted (journal.adopt): a row of it may land.
      // The manifests are not read here: whether one lists it cannot be told, and none lists it twice.
      const adopted = journal.adopt([
        {
          object,
          priority: decision.priority,
          coreKey,
          coreEtag: head.etag ?? '',
          coreSize: head.size,
          sha256: proven.sha256,
          proof: 'head',
          listInManifest: false,
        },
      ]);
      if (adopted.objects > 0) return 'adopted';
    } else {
      otherCopy = true;
    }
  }
  const [seen] = journal.recordSeen([object], () => decision, 'repair');
  const row = journal.latest(object.bucket, object.key);
  if (seen === 'unchanged' || row === undefined) return 'unchanged';
  // Whatever copy is at the key is not proven to be this version: the upload must not take it for ours.
  if (otherCopy && coreKey !== undefined) journal.markCoreCopySuspect(row, coreKey);
  journal.setLandingReason(row.id, 'repair');
  return 'journaled';
}

export async function repairOne(deps: RepairDeps, action: RepairAction, signal?: AbortSignal): Promise<RepairOutcome> {
  const { journal } = deps;
  switch (action.kind) {
    case 'reland': {
      const { row } = action;
      if (action.coreCopy === 'different' && row.coreKey !== null) journal.markCoreCopySuspect(row, row.coreKey);
      const code = action.coreCopy === 'missing' ? 'TRIB_ERR_CORE_COPY_MISSING' : 'TRIB_ERR_CORE_COPY_DIFFERENT';
      journal.requeueMissing(row.id, code, `verify --repair: ${action.detail}`, 'repair');
      return journal.get(row.id)?.state === 'queued' ? 'queued' : 'unchanged';
    }
    case 'requeue':
      return journal.requeueForRepair(action.row.id) ? 'queued' : 'unchanged';
    case 'journal':
      return journalVersion(deps, action.object, signal);
  }
}
