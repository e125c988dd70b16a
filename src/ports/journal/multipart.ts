/** The journal's record of unfinished multipart uploads: a crash resumes at the next part. */

export interface MultipartProgress {
  readonly uploadId: string;
  readonly coreKey: string;
  readonly partSize: number;
  readonly sha256: string;
  /** The hashing pass's MD5 of every part (16 bytes each, in order); undefined for older uploads. */
  readonly partMd5s?: Buffer | undefined;
  readonly parts: ReadonlyMap<number, { readonly etag: string; readonly size: number }>;
}

export interface MultipartJournal {
  multipart(id: number): MultipartProgress | undefined;
  startMultipart(id: number, upload: Omit<MultipartProgress, 'parts'>): void;
  recordPart(id: number, partNumber: number, etag: string, size: number): void;
  forgetMultipart(id: number): void;
}
