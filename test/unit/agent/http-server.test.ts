/**
 * The agent's listener keeps its answers readable and its reading bounded: a refused body is read
 * and dropped before the answer (so the sender sees 401/413, not a reset), but only up to a cap;
 * a body longer than that gets its connection cut instead of being read for ever.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
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

/** POSTs `total` bytes in 64 KiB chunks; resolves with the status, or 'cut' when the connection is cut. */
function post(address: string, total: number, headers: Record<string, string>): Promise<number | 'cut'> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const req = request({ host, port: Number(port), method: 'POST', path: '/events', headers: { 'content-length': String(total), ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve('cut'));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const part = chunk.subarray(0, Math.min(chunk.length, total - sent));
        sent += part.length;
        if (!req.write(part)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

test('a refused body is drained before the answer, within a cap; beyond it the connection is cut', async (t) => {
  const server = await start(t);
  assert.equal(await post(server.address, 1024 * 1024, {}), 401, 'no token: 401 after a 1 MiB body, not a reset');
  assert.equal(await post(server.address, 2 * LIMIT, { authorization: 'Bearer sesame' }), 413, 'over the limit: 413');
  assert.equal(await post(server.address, 64 * 1024 * 1024, {}), 'cut', 'a 64 MiB body without the token is not read to its end');
  assert.equal(await post(server.address, 64 * 1024 * 1024, { authorization: 'Bearer sesame' }), 'cut', 'nor with it, past 16 MiB');
  assert.equal(await post(server.address, 2, { authorization: 'Bearer sesame' }), 400, 'the listener still answers');
});
