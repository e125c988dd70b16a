/**
 * The durable journal (SQLite), one port per concept; `Journal` is all of them over one
 * connection. Components take the narrowest one they need.
 */
import type { AdoptionJournal } from './journal/adoption.js';
import type { CheckpointJournal } from './journal/checkpoints.js';
import type { DeletionJournal } from './journal/deletions.js';
import type { EndpointHealthJournal } from './journal/endpoint-health.js';
import type { ManifestJournal } from './journal/manifests.js';
import type { MultipartJournal } from './journal/multipart.js';
import type { ObjectJournal } from './journal/objects.js';
import type { RetentionJournal } from './journal/retention.js';
import type { StatisticsJournal } from './journal/statistics.js';
import type { SuspectCopyJournal } from './journal/suspect-copies.js';

export type * from './journal/adoption.js';
export type * from './journal/checkpoints.js';
export type * from './journal/deletions.js';
export type * from './journal/endpoint-health.js';
export type * from './journal/manifests.js';
export type * from './journal/multipart.js';
export type * from './journal/objects.js';
export type * from './journal/retention.js';
export type * from './journal/statistics.js';
export type * from './journal/suspect-copies.js';

export interface Journal
  extends
    ObjectJournal,
    MultipartJournal,
    CheckpointJournal,
    AdoptionJournal,
    ManifestJournal,
    DeletionJournal,
    RetentionJournal,
    SuspectCopyJournal,
    StatisticsJournal,
    EndpointHealthJournal {
  close(): void;
}
