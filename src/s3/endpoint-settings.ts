/**
 * What one S3 endpoint (the edge or the core) is configured with, and its CA bundle. Kept apart
 * from create-client.ts so that reading them does not load the AWS SDK (about 0.2 CPU-s).
 */
import { readFileSync } from 'node:fs';

import { TributaryError } from '../core/errors.js';

export interface EndpointSettings {
  readonly endpoint?: string | undefined;
  readonly region: string;
  readonly forcePathStyle: boolean;
  readonly credentials?:
    { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string | undefined } | undefined;
  readonly checksums: 'when_required' | 'when_supported';
  readonly requestTimeout: number;
  readonly maxAttempts: number;
  /** Path of a PEM bundle of extra certificate authorities (https endpoints). */
  readonly caBundle?: string | undefined;
}

/** The PEM text of `caBundle`, or undefined; an unreadable file is a config error naming the field. */
export function readCaBundle(settings: Pick<EndpointSettings, 'caBundle'>, field: string): string | undefined {
  if (settings.caBundle === undefined) return undefined;
  try {
    return readFileSync(settings.caBundle, 'utf8');
  } catch (error) {
    throw new TributaryError('TRIB_ERR_CONFIG_INVALID', `${field}: cannot read ${settings.caBundle}: ${(error as Error).message}`, {
      cause: error,
      field,
    });
  }
}
