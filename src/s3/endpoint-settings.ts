/**
 * What one S3 endpoint (the edge or the core) is configured with. Kept apart
 * from create-client.ts so that reading them does not load the AWS SDK (about 0.2 CPU-s).
 */
export interface EndpointSettings {
  readonly endpoint?: string | undefined;
  readonly region: string;
  readonly forcePathStyle: boolean;
  readonly credentials?:
    { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string | undefined } | undefined;
  /** The SDK's CRC checksums on writes (the core's multipart uploads); when_required by default. */
  readonly checksums?: 'when_required' | 'when_supported' | undefined;
  readonly requestTimeout: number;
  readonly maxAttempts: number;
  /** Path of a PEM bundle of extra certificate authorities (https endpoints). */
  readonly caBundle?: string | undefined;
}
