/**
 * The objects table's row as SQLite returns it, and the JournalObject every port hands out.
 * Shared by the journal's modules; nothing outside journal/ sees a row.
 */
import type { LandingReason } from '../core/object-state.js';
import type { JournalObject } from '../ports/journal.js';

export interface ObjectRow {
  id: number;
  bucket: string;
  key: string;
  etag: string;
  size: number;
  mtime_ms: number;
  mtime_exact: number;
  version_id: string | null;
  state: JournalObject['state'];
  priority: number;
  attempts: number;
  deferrals: number;
  next_attempt_at: number;
  last_error_code: string | null;
  last_error: string | null;
  core_key: string | null;
  sha256: string | null;
  core_etag: string | null;
  core_size: number | null;
  detected_by: string;
  first_seen_at: number;
  landed_at: number | null;
  edge_retention?: string | null;
  vanished_at: number | null;
  forgotten_at: number | null;
  forget_reason: string | null;
  landing_reason: LandingReason | null;
  adopted_by: JournalObject['adoptedBy'];
}

export function toObject(row: ObjectRow): JournalObject {
  return {
    id: row.id,
    bucket: row.bucket,
    key: row.key,
    etag: row.etag,
    size: row.size,
    mtimeMs: row.mtime_ms,
    mtimeExact: row.mtime_exact !== 0,
    versionId: row.version_id,
    state: row.state,
    priority: row.priority,
    attempts: row.attempts,
    deferrals: row.deferrals,
    nextAttemptAt: row.next_attempt_at,
    lastErrorCode: row.last_error_code,
    lastError: row.last_error,
    coreKey: row.core_key,
    sha256: row.sha256,
    coreEtag: row.core_etag,
    coreSize: row.core_size,
    detectedBy: row.detected_by,
    firstSeenAt: row.first_seen_at,
    landedAt: row.landed_at,
    vanishedAt: row.vanished_at,
    forgottenAt: row.forgotten_at,
    forgetReason: row.forget_reason,
    landingReason: row.landing_reason,
    adoptedBy: row.adopted_by,
  };
}

/** Error texts are cut to this many characters in the journal. */
export const MAX_ERROR_TEXT = 2000;
/** edge_expires_at of an object whose edge copy is never deleted. */
export const NEVER = Number.MAX_SAFE_INTEGER;
