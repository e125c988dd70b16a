/** The scan's position per bucket and prefix: an interrupted scan resumes where it stopped. */

export interface ScanCheckpoint {
  readonly passStartedAt: number;
  readonly startAfter: string | null;
  readonly objectsSeen: number;
  readonly completedAt: number | null;
}

export interface CheckpointJournal {
  checkpoint(bucket: string, prefix: string): ScanCheckpoint | undefined;
  saveCheckpoint(bucket: string, prefix: string, checkpoint: ScanCheckpoint): void;
}
