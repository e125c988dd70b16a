/**
 * The agent's listener keeps its answers readable and its reading bounded: a refused body is read
 * and dropped before the answer (so the sender sees 401/413, not a reset), but only up to a cap;
 * a body longer than that gets its connection cut instead of being read for ever.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';

import { Registry } from 'prom-client';

import { startAgentHttp, type AgentHttpServer } from '../../../src/agent/http-server.js';
import type { AgentMetrics } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { silentMetrics } from '../../../src/observability/silent-metrics.js';

const LIMIT = 64 * 1024;

async function start(t: { after(fn: () => Promise<void>): void }): Promise<AgentHttpServer> {
  const metrics: AgentMetrics = { ...silentMetrics, registry: new Registry() };
  const server = await startAgentHttp({
    listen: { host: '127.0.0.1', port: 0 },
    token: 'sesame',
    metrics,
    status: () => {
      throw new Error('not asked for');
    },
    ready: () => ({ ok: true }),
    events: { maxBodyBytes: LIMIT, handle: () => ({ status: 200, body: { accepted: 0 } }) },
    log: silentLogger,
  });
  t.after(() => server.close());
  return server;
}

interface PostResult {
  /** The status, or 'cut' when the connection ended without one. */
  readonly result: number | 'cut';
  /** Bytes the client had written when the answer (or the end) came. */
  readonly sent: number;
}

/** POSTs `total` bytes in 64 KiB chunks, with the Content-Length declared. */
function post(address: string, total: number, headers: Record<string, string>): Promise<PostResult> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    let sent = 0;
    let done = false;
    const finish = (result: number | 'cut') => {
      if (!done) resolve({ result, sent });
      done = true;
    };
    const req = request(
      { host, port: Number(port), method: 'POST', path: '/events', headers: { 'content-length': String(total), ...headers } },
      (res) => {
        finish(res.statusCode ?? 0);
        res.resume();
        req.destroy();
      },
    );
    req.on('error', () => finish('cut'));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (!done && sent < total) {
        const part = chunk.subarray(0, Math.min(chunk.length, total - sent));
        sent += part.length;
        if (!req.write(part)) return void req.once('drain', pump);
      }
      if (!done) req.end();
    };
    pump();
  });
}

test('a refused body is drained before the answer, within a cap; a longer one is answered at once and not read', async (t) => {
  const server = await start(t);
  const MiB = 1024 * 1024;
  assert.deepEqual(
    await post(server.address, MiB, {}),
    { result: 401, sent: MiB },
    'no token: 401 after the whole 1 MiB body, not a reset',
  );
  assert.deepEqual(
    await post(server.address, 2 * LIMIT, { authorization: 'Bearer sesame' }),
    { result: 413, sent: 2 * LIMIT },
    'over the limit: 413',
  );
  for (const headers of [{}, { authorization: 'Bearer sesame' }]) {
    const huge = await post(server.address, 64 * MiB, headers);
    assert.ok(huge.result === 'cut' || huge.result === 401 || huge.result === 413, String(huge.result));
    assert.ok(huge.sent < 64 * MiB, `a 64 MiB body is not read to its end (${huge.sent} bytes sent when it ended)`);
  }
  assert.equal((await post(server.address, 2, { authorization: 'Bearer sesame' })).result, 400, 'the listener still answers');
});

test('CONNECT gets a 405 and its socket is closed even if the client never closes its side', { timeout: 20_000 }, async (t) => {
  const server = await start(t);
  const [host, port] = server.address.split(':');
  const socket = connect({ host, port: Number(port), allowHalfOpen: true });
  t.after(() => socket.destroy());
  socket.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
  let answer = '';
  socket.on('data', (data: Buffer) => (answer += data.toString()));
  await once(socket, 'end');
  assert.match(answer, /^HTTP\/1\.1 405 /);
  // The client keeps its side open; the server must still be able to close (a stop of the agent).
  await server.close();
});
