/**
 * The agent's HTTP listener: health and readiness, Prometheus metrics whose values follow a known
 * workload, and /status behind the bearer token.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { killIfRunning, listeningAddress, spawnCli } from '../helpers/cli.js';
import { listKeys, putObject, startTestS3 } from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';
import { writeTestConfig } from '../helpers/test-config.js';

const TOKEN = 'tok-3f9a1c77e0b4';

function metricValue(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

test('agent HTTP: /healthz, /readyz, /metrics after a known workload, /status behind the token', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  for (let i = 0; i < 3; i += 1) await putObject(edge, 'edge', `m/${i}.json`, `{"i":${i}}`);
  await putObject(edge, 'edge', 'm/big.bin', Buffer.alloc(1000, 1));
  const config = writeTestConfig(dir, edge, core, { extra: { scan: { interval: '1s' }, http: { token: TOKEN } } });
  const agent = spawnCli(['agent', '-c', config, '--log-level', 'info']);
  t.after(() => killIfRunning(agent));
  const base = `http://${await listeningAddress(agent)}`;
  assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/, 'binds loopback');

  const deadline = Date.now() + 30_000;
  while ((await listKeys(core, 'lake', 'site-a/')).length < 4) {
    assert.ok(Date.now() < deadline, 'objects did not land');
    await sleep(100);
  }
  await sleep(300);

  const health = await fetch(`${base}/healthz`);
  assert.equal(health.status, 200);
  assert.equal((await fetch(`${base}/readyz`)).status, 200);

  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.equal(metricValue(metrics, 'tributary_replicated_objects_total'), 4);
  assert.equal(metricValue(metrics, 'tributary_bytes_total', '{kind="logical"}'), 3 * 7 + 1000);
  assert.equal(metricValue(metrics, 'tributary_bytes_total', '{kind="wire"}'), 3 * 7 + 1000);
  assert.equal(metricValue(metrics, 'tributary_replication_lag_seconds_count'), 4);
  assert.equal(metricValue(metrics, 'tributary_oldest_pending_age_seconds'), 0);
  assert.equal(metricValue(metrics, 'tributary_core_reachable'), 1);
  assert.equal(metricValue(metrics, 'tributary_edge_reachable'), 1);
  assert.match(metrics, /^# TYPE tributary_backlog_objects gauge$/m);
  assert.match(metrics, /^# TYPE tributary_failures_total counter$/m);
  assert.match(metrics, /^process_cpu_seconds_total /m, 'process defaults');
  assert.doesNotMatch(metrics, /m\/big\.bin|m\/0\.json/, 'no object key in any label');

  assert.equal((await fetch(`${base}/status`)).status, 401);
  assert.equal((await fetch(`${base}/status`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
  const status = await fetch(`${base}/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(status.status, 200);
  const body = (await status.json()) as { site: string; totals: { pendingObjects: number } };
  assert.equal(body.site, 'site-a');
  assert.equal(body.totals.pendingObjects, 0);
  assert.equal((await fetch(`${base}/nope`)).status, 404);

  agent.child.kill('SIGTERM');
  const result = await agent.done;
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stderr + result.stdout, new RegExp(TOKEN), 'the token never appears in logs');
});

test('agent HTTP: a port in use is a clear error naming http.listen', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const { createServer } = await import('node:net');
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
  t.after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const config = writeTestConfig(dir, edge, core, { extra: { http: { listen: `127.0.0.1:${port}` } } });
  const agent = spawnCli(['agent', '-c', config]);
  t.after(() => killIfRunning(agent));
  const result = await agent.done;
  assert.equal(result.code, 2);
  assert.match(result.stderr, /http\.listen: cannot listen on 127\.0\.0\.1:\d+ \(the port is in use\)/);
});
