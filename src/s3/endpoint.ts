/**
 * One S3 endpoint (the edge or the core) as the adapters use it: the lean HTTP client for every
 * per-object request and for listings, and the AWS SDK client for multipart uploads, created
 * (and its ~100 ms of module loading paid) only when first needed.
 */
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';

import type { EndpointSettings } from './endpoint-settings.js';
import { createS3Http, type S3Http } from './s3-http.js';

export type SdkModule = typeof S3Sdk;

export interface S3Endpoint {
  /** The endpoint's URL, as messages name it. */
  readonly url: string;
  readonly http: S3Http;
  /** The SDK client and its command classes, loaded on first call. */
  sdk(): Promise<{ readonly client: S3Client; readonly commands: SdkModule }>;
  close(): Promise<void>;
}

/** `ca`: the PEM text of extra certificate authorities to trust (config/ca-bundle.ts reads it). */
export function createS3Endpoint(settings: EndpointSettings, connections: number, ca?: string): S3Endpoint {
  let loaded: Promise<{ client: S3Client; commands: SdkModule }> | undefined;
  const sdk = () =>
    (loaded ??= Promise.all([import('@aws-sdk/client-s3'), import('./create-client.js')]).then(([commands, { createS3Client }]) => ({
      client: createS3Client(settings, connections, ca),
      commands,
    })));
  const credentials = settings.credentials;
  const url = settings.endpoint ?? `https://s3.${settings.region}.amazonaws.com`;
  const http = createS3Http({
    endpoint: url,
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    // Static keys from the config, or the SDK's default chain (environment, profile, container, IMDS).
    credentials:
      credentials === undefined
        ? async () => (await sdk()).client.config.credentials()
        : {
            accessKeyId: credentials.accessKeyId,
            secretAccessKey: credentials.secretAccessKey,
            ...(credentials.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken }),
          },
    requestTimeout: settings.requestTimeout,
    maxAttempts: settings.maxAttempts,
    connections,
    ...(ca === undefined ? {} : { ca }),
  });
  return {
    url,
    http,
    sdk,
    async close() {
      if (loaded) (await loaded).client.destroy();
      await http.close();
    },
  };
}
