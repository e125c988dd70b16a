/**
 * The heartbeat writer while the core hangs: one PUT in flight, at most one waiting behind it;
 * the ticks of an outage do not pile up into a burst of PUTs when the core is back, and the final
 * `stopped` heartbeat is always written.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { buildAgent } from '../../../src/agent/build-agent.js';
import { createHeartbeatWriter } from '../../../src/agent/heartbeat-writer.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { FakeClock, FakeLake, FakeSource } from '../../helpers/fakes.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { configForFakes } from '../../helpers/test-config.js';

test('heartbeats do not pile up while the core hangs: one in flight, one waiting, then the final one', async (t) => {
  const dir = tempDir(t);
  const config = configForFakes(dir, { heartbeat: { interval: '1s' } });
  const lake = new FakeLake();
  const states: string[] = [];
  let release!: () => void;
  const hung = new Promise<void>((resolve) => (release = resolve));
  const put = lake.put.bind(lake);
  lake.put = async (key, body, options) => {
    states.push((JSON.parse((body as Buffer).toString()) as { state: string }).state);
    if (states.length === 1) await hung; // the core hangs on the first heartbeat
    return put(key, body, options);
  };
  const agent = buildAgent(config, { logger: silentLogger, source: new FakeSource(), lake });
  t.after(() => agent.close());
  const writer = createHeartbeatWriter(agent, { clock: { now: () => Date.now() }, log: silentLogger });
  writer.start();
  await sleep(3500); // three more ticks while the first PUT hangs
  assert.deepEqual(states, ['running']);
  release();
  await writer.stop();
  assert.deepEqual(states, ['running', 'running', 'stopped'], 'the three ticks became one heartbeat, then the final one');
});

test('a sync --once heartbeat gives the rate over the run, not over the moment it is written; bytes not sent are not throughput', async (t) => {
  const dir = tempDir(t);
  const config = configForFakes(dir);
  const lake = new FakeLake();
  const clock = new FakeClock();
  const agent = buildAgent(config, { logger: silentLogger, source: new FakeSource(), lake, clock });
  t.after(() => agent.close());
  const runStartedAt = clock.now();
  // 4 MB landed over a 40 s run.
  for (let i = 0; i < 4; i += 1) {
    clock.advance(10_000);
    agent.recent.record(1, 1_000_000);
  }
  await createHeartbeatWriter(agent, { clock, log: silentLogger, mode: 'once', startedAt: runStartedAt }).stop();
  const written = [...lake.objects.values()].map(
    (o) => JSON.parse(o.data.toString()) as { throughput: { bytesPerSecond: number; objectsPerSecond: number } },
  );
  assert.equal(written.length, 1);
  assert.equal(written[0]!.throughput.bytesPerSecond, 100_000);
  assert.equal(written[0]!.throughput.objectsPerSecond, 0.1);
});
