// Runs one s3rver (a local S3-compatible server) on 127.0.0.1 in its own process.
// It must run under `node --openssl-legacy-provider`: s3rver encrypts ListObjectsV2
// continuation tokens with DES, which OpenSSL 3 only offers through the legacy provider.
//
// Arguments come as one JSON object in argv[2]:
//   { directory, port?, buckets?: string[], accessKeyId?, secretAccessKey?, requestLog?, tls?: { key, cert } }
// On start it prints one line `{"port":N}` to stdout. With `requestLog` set, every request is
// appended to that file as an NDJSON line {t, method, url, status, bytesIn} once it has ended
// (bytesIn is the request's Content-Length).
import { appendFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver');

/**
 * Replaces s3rver's only access key (S3RVER) with ours. s3rver has no option for its keys, so
 * this goes through a private module of s3rver 3.7 (docs/adr/0004-s3rver-access-keys.md); if a
 * release moves or changes it, the server refuses to start and says so, rather than running
 * with the wrong keys. test/integration/demo/s3rver-keys.test.ts checks it with real requests.
 */
function useAccessKey(accessKeyId, secretAccessKey) {
  const where = `s3rver ${require('s3rver/package.json').version}: its private module lib/models/account`;
  let AWSAccount;
  try {
    AWSAccount = require('s3rver/lib/models/account');
  } catch (error) {
    throw new Error(`${where} cannot be loaded (${error.message}); see docs/adr/0004-s3rver-access-keys.md`);
  }
  const account = AWSAccount?.DUMMY_ACCOUNT;
  if (
    !(AWSAccount?.registry instanceof Map) ||
    typeof account?.createKeyPair !== 'function' ||
    typeof account.revokeAccessKey !== 'function' ||
    AWSAccount.registry.get('S3RVER') !== account
  ) {
    throw new Error(`${where} no longer holds DUMMY_ACCOUNT and its key registry as 3.7 did; see docs/adr/0004-s3rver-access-keys.md`);
  }
  account.revokeAccessKey('S3RVER');
  account.createKeyPair(accessKeyId, secretAccessKey);
}

const options = JSON.parse(process.argv[2] ?? '{}');
if (options.accessKeyId && options.secretAccessKey) useAccessKey(options.accessKeyId, options.secretAccessKey);

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: options.directory,
  configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  vhostBuckets: false,
});
await server.configureBuckets();
const handler = server.callback();
// With `tls: { key, cert }` (PEM file paths) the server speaks https.
const serve = options.tls
  ? (handle) => createTlsServer({ key: readFileSync(options.tls.key), cert: readFileSync(options.tls.cert) }, handle)
  : (handle) => createServer(handle);
const http = serve((req, res) => {
  if (options.requestLog) {
    // Listening to 'data' here would start the body flowing before s3rver reads it: use the header.
    const bytesIn = Number(req.headers['content-length'] ?? 0);
    res.on('finish', () => {
      const line = { t: Date.now(), method: req.method, url: req.url, status: res.statusCode, bytesIn };
      const sse = req.headers['x-amz-server-side-encryption'];
      if (sse !== undefined) line.sse = sse;
      const sseKey = req.headers['x-amz-server-side-encryption-aws-kms-key-id'];
      if (sseKey !== undefined) line.sseKmsKeyId = sseKey;
      appendFileSync(options.requestLog, `${JSON.stringify(line)}\n`);
    });
  }
  handler(req, res);
});
http.keepAliveTimeout = 65_000;
http.listen(options.port ?? 0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: http.address().port })}\n`);
});
const stop = () => http.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The parent may die without signalling us (SIGKILL in tests): exit when stdin closes.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
