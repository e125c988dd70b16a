/**
 * TLS to S3 endpoints: certificates are verified by default (an untrusted one is a clear error
 * naming the field to fix, exit 2), and a custom CA bundle makes a private CA trusted.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { stringify } from 'yaml';

import { makeCertificates } from '../helpers/certificates.js';
import { runCli } from '../helpers/cli.js';
import { listKeys, putObject, startTestS3 } from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testConfigDocument } from '../helpers/test-config.js';

test('https endpoints: verified by default, trusted through core/edge.caBundle', async (t) => {
  const dir = tempDir(t);
  const certs = makeCertificates(dir);
  const edge = await startTestS3(t, dir, 'edge', ['edge'], undefined, certs);
  const core = await startTestS3(t, dir, 'core', ['lake'], undefined, certs);
  assert.match(edge.endpoint, /^https:/);
  // The test's own SDK clients (seeding and listing only) trust the private CA.
  const { Agent } = await import('node:https');
  const { NodeHttpHandler } = await import('@smithy/node-http-handler');
  for (const server of [edge, core]) {
    server.client.config.requestHandler = new NodeHttpHandler({ httpsAgent: new Agent({ ca: readFileSync(certs.ca) }) });
  }
  await putObject(edge, 'edge', 'secure.txt', 'over tls');

  const untrusted = join(dir, 'untrusted.yaml');
  writeFileSync(untrusted, stringify(testConfigDocument(dir, edge, core)));
  const refused = await runCli(['sync', '--once', '-c', untrusted], { env: { NODE_EXTRA_CA_CERTS: '' } });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(
    refused.stderr,
    /the (core|edge)'s TLS certificate is not trusted \([A-Z_]+\); give its certificate authority in (core|edge)\.caBundle/,
  );

  const trusted = join(dir, 'trusted.yaml');
  writeFileSync(
    trusted,
    stringify(testConfigDocument(dir, edge, core, { extra: { edge: { caBundle: certs.ca }, core: { caBundle: certs.ca } } })),
  );
  const result = await runCli(['sync', '--once', '-c', trusted], { env: { NODE_EXTRA_CA_CERTS: '' } });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await listKeys(core, 'lake', 'site-a/'), ['site-a/edge/secure.txt']);

  const missing = join(dir, 'missing.yaml');
  writeFileSync(missing, stringify(testConfigDocument(dir, edge, core, { extra: { core: { caBundle: join(dir, 'nope.pem') } } })));
  const bad = await runCli(['sync', '--once', '-c', missing]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /core\.caBundle: cannot read/);
});
