/**
 * One S3 client per endpoint, configured for what S3-compatible servers accept: path-style when
 * asked, the SDK's own CRC checksums only when required (many non-AWS servers reject or corrupt
 * aws-chunked uploads), keep-alive sockets sized for the transfer concurrency, and timeouts.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import * as tls from 'node:tls';

import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';

import type { EndpointSettings } from './endpoint-settings.js';

export function createS3Client(settings: EndpointSettings, maxSockets: number, ca?: string): S3Client {
  const agentOptions = { keepAlive: true, maxSockets, keepAliveMsecs: 10_000 };
  const mode = settings.checksums === 'when_supported' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED';
  return new S3Client({
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    ...(settings.credentials === undefined
      ? {}
      : {
          credentials: {
            accessKeyId: settings.credentials.accessKeyId,
            secretAccessKey: settings.credentials.secretAccessKey,
            ...(settings.credentials.sessionToken === undefined ? {} : { sessionToken: settings.credentials.sessionToken }),
          },
        }),
    requestChecksumCalculation: mode,
    responseChecksumValidation: mode,
    maxAttempts: settings.maxAttempts,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: Math.min(settings.requestTimeout, 10_000),
      requestTimeout: settings.requestTimeout,
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent({ ...agentOptions, ...(ca === undefined ? {} : { ca: [...tls.rootCertificates, ca] }) }),
    }),
  });
}
