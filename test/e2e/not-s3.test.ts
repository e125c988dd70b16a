/**
 * Endpoints that are not S3 at all, or spoken to in the wrong scheme, found at start-up: a web
 * server answering HTML (an error page, or a page for every path), a port that closes every
 * connection, https:// against s3rver's plain port, http:// against a TLS s3rver. Each exits 2
 * (the config is wrong) with a message that names the URL and says what is wrong in words, not
 * TRIB_ERR_SOURCE_GONE, an edge server error or a raw OpenSSL message.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';

import { stringify } from 'yaml';

import { makeCertificates } from '../helpers/certificates.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { journalRows } from '../helpers/journal-db.js';
import { putObject, startTestS3, type TestS3 } from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testConfigDocument } from '../helpers/test-config.js';

async function listen(t: TestContext, server: HttpServer | TcpServer): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** A web server that answers every request with an HTML page and `status`. */
function webServer(t: TestContext, status: number): Promise<string> {
  const server = createHttpServer((request, response) => {
    request.resume();
    response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', connection: 'close' });
    response.end(`<!DOCTYPE html><html><head><title>${status === 200 ? 'Router login' : 'Not Found'}</title></head><body></body></html>`);
  });
  return listen(t, server);
}

function configWith(dir: string, edge: TestS3, core: TestS3, endpoints: { edge?: string; core?: string }, name: string): string {
  const doc = testConfigDocument(dir, edge, core);
  if (endpoints.edge !== undefined) (doc['edge'] as Record<string, unknown>)['endpoint'] = endpoints.edge;
  if (endpoints.core !== undefined) (doc['core'] as Record<string, unknown>)['endpoint'] = endpoints.core;
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

test('a web server as the edge or the core: "not an S3 endpoint" with the URL, exit 2 (sync --once and agent)', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  await putObject(edge, 'edge', 'a.txt', 'alpha');
  const notFound = await webServer(t, 404);
  const everyPath = await webServer(t, 200);

  // The edge: a 404 page would have read as "the object no longer exists" (TRIB_ERR_SOURCE_GONE).
  const edgeHtml = await runCli(['sync', '--once', '-c', configWith(dir, edge, core, { edge: notFound }, 'edge-404')]);
  assert.equal(edgeHtml.code, 2, edgeHtml.stderr);
  assert.match(
    edgeHtml.stderr,
    new RegExp(
      `TRIB_ERR_EDGE_NOT_S3: edge LIST edge/: ${escape(notFound)} is not an S3 endpoint: it answered HTTP 404 \\(text/html\\) titled "Not Found"; check edge\\.endpoint`,
    ),
  );
  assert.doesNotMatch(edgeHtml.stderr, /SOURCE_GONE/);
  // A page for every path, 200 to a listing.
  const edgePage = await runCli(['sync', '--once', '-c', configWith(dir, edge, core, { edge: everyPath }, 'edge-200')]);
  assert.equal(edgePage.code, 2, edgePage.stderr);
  assert.match(
    edgePage.stderr,
    new RegExp(
      `TRIB_ERR_EDGE_NOT_S3: .*${escape(everyPath)} is not an S3 endpoint: it answered HTTP 200 \\(text/html\\) titled "Router login" to a bucket listing`,
    ),
  );

  // The core, both ways; and the agent refuses to start on it too (it starts anyway only when an
  // endpoint is merely unreachable).
  const coreHtml = await runCli(['sync', '--once', '-c', configWith(dir, edge, core, { core: notFound }, 'core-404')]);
  assert.equal(coreHtml.code, 2, coreHtml.stderr);
  assert.match(
    coreHtml.stderr,
    new RegExp(`TRIB_ERR_CORE_NOT_S3: .*${escape(notFound)} is not an S3 endpoint: it answered HTTP 404 \\(text/html\\)`),
  );
  const agent = spawnCli(['agent', '-c', configWith(dir, edge, core, { core: everyPath }, 'core-200')]);
  const result = await agent.done;
  assert.equal(result.code, 2, result.stderr);
  assert.match(
    result.stderr,
    new RegExp(
      `TRIB_ERR_CORE_NOT_S3: .*${escape(everyPath)} is not an S3 endpoint: it answered HTTP 200 \\(text/html\\) titled "Router login"`,
    ),
  );
  assert.ok(journalRows(join(dir, 'journal')).every((r) => r.state !== 'done'));
});

test('a port that closes every connection at once: "not an S3 endpoint", exit 2', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const closer = await listen(
    t,
    createTcpServer((socket) => socket.destroy()),
  );
  const result = await runCli(['sync', '--once', '-c', configWith(dir, edge, core, { edge: closer }, 'closer')]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(
    result.stderr,
    new RegExp(
      `TRIB_ERR_EDGE_NOT_S3: ${escape(closer)} is not an S3 endpoint: it closed the connection without an HTTP answer; check edge\\.endpoint`,
    ),
  );
});

test('https:// against a plain HTTP port, http:// against a TLS port: the scheme to use, in words, exit 2', async (t) => {
  const dir = tempDir(t);
  const certs = makeCertificates(dir);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const tlsEdge = await startTestS3(t, dir, 'tls-edge', ['edge'], undefined, certs);
  assert.match(edge.endpoint, /^http:/);
  assert.match(tlsEdge.endpoint, /^https:/);

  const httpsToPlain = edge.endpoint.replace(/^http:/, 'https:');
  const wrongTls = await runCli(['sync', '--once', '-c', configWith(dir, edge, core, { edge: httpsToPlain }, 'https-plain')]);
  assert.equal(wrongTls.code, 2, wrongTls.stderr);
  assert.match(
    wrongTls.stderr,
    new RegExp(`TRIB_ERR_EDGE_TLS: edge LIST edge/: ${escape(httpsToPlain)} answers plain HTTP, not TLS: use http:// in edge\\.endpoint`),
  );
  assert.doesNotMatch(wrongTls.stderr, /wrong version number|ssl3_get_record|EDGE_SERVER/);

  const httpToTls = tlsEdge.endpoint.replace(/^https:/, 'http:');
  const plainToTls = await runCli(['sync', '--once', '-c', configWith(dir, edge, core, { edge: httpToTls }, 'http-tls')]);
  assert.equal(plainToTls.code, 2, plainToTls.stderr);
  assert.match(
    plainToTls.stderr,
    new RegExp(`TRIB_ERR_EDGE_TLS: edge endpoint ${escape(httpToTls)} speaks TLS: use https:// in edge\\.endpoint`),
  );
  // The core the same way round, refused by the agent at start.
  const agent = spawnCli(['agent', '-c', configWith(dir, edge, core, { core: httpToTls }, 'core-http-tls')]);
  const result = await agent.done;
  assert.equal(result.code, 2, result.stderr);
  assert.match(
    result.stderr,
    new RegExp(`TRIB_ERR_CORE_TLS: core endpoint ${escape(httpToTls)} speaks TLS: use https:// in core\\.endpoint`),
  );
});
