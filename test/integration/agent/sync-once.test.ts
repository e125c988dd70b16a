/**
 * One pass of `sync --once` called as the application service (agent/sync-once.ts), over a real
 * journal and fake stores: the result the command prints, what the progress sink is told, and
 * what the pass leaves in the core (objects, manifests, the run's heartbeat), without the CLI.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';

import { heartbeatKey } from '../../../src/agent/build-agent.js';
import { runSyncOnce, type SyncProgressSink } from '../../../src/agent/sync-once.js';
import { parseConfig } from '../../../src/config/load.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { HeartbeatV1 } from '../../../src/report/heartbeat.js';
import { mapS3Error } from '../../../src/s3/map-error.js';
import { FakeLake, FakeSource, sdkError } from '../../helpers/fakes.js';
import { tempDir } from '../../helpers/temp-dir.js';

function setUp(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t);
  const config = parseConfig({
    site: 'site-a',
    journal: join(dir, 'journal'),
    edge: { endpoint: 'http://127.0.0.1:1', buckets: ['edge'] },
    core: { endpoint: 'http://127.0.0.1:2', bucket: 'lake' },
    transfer: { concurrency: 2 },
  });
  return { config, source: new FakeSource(), lake: new FakeLake() };
}

/** A progress sink that writes down what it is told. */
function recordingProgress(interactive: boolean) {
  const told = { totals: [] as [number, number][], done: [] as [number, boolean][], sent: 0, stops: 0 };
  const sink: SyncProgressSink = {
    interactive,
    setTotals: (objects, bytes) => told.totals.push([objects, bytes]),
    objectDone: (bytes, alreadyPresent) => told.done.push([bytes, alreadyPresent]),
    bytesSent: (bytes) => (told.sent += bytes),
    stop: () => (told.stops += 1),
  };
  return { sink, told };
}

const options = () => ({ retryWindowMs: 1000, maxOutageMs: 1000, signal: new AbortController().signal });

const heartbeatOf = (lake: FakeLake) => JSON.parse(lake.objects.get(heartbeatKey('site-a'))!.data.toString()) as HeartbeatV1;

test('a pass lands what the scan finds and says so; the progress sink follows it; a second pass lands nothing', async (t) => {
  const { config, source, lake } = setUp(t);
  source.put('edge', 'a.json', 'a'.repeat(100));
  source.put('edge', 'b.json', 'b'.repeat(200));
  source.put('edge', 'c/d.json', 'd'.repeat(300));
  const { sink, told } = recordingProgress(true);
  const result = await runSyncOnce(config, options(), { logger: silentLogger, source, lake, progress: sink });
  assert.deepEqual(result, {
    scan: { listed: 3, queued: 3, changed: 0, skipped: 0, resumed: false, adopted: 0 },
    run: { landed: 3, vanished: 0, stoppedBy: 'idle' },
    landedBytes: 600,
    alreadyPresent: 0,
    backlog: { pendingObjects: 0, pendingBytes: 0, failedObjects: 0, deadObjects: 0, vanishedObjects: 0, forgottenObjects: 0 },
  });
  assert.deepEqual(
    told.done.map(([bytes]) => bytes).sort((a, b) => a - b),
    [100, 200, 300],
  );
  assert.equal(told.sent, 600);
  assert.ok(told.totals.length >= 1, 'totals shown once the first page is journaled');
  assert.equal(told.stops, 2, 'once the transfers are over, and when the pass ends');
  assert.equal(lake.objects.get('site-a/edge/c/d.json')!.data.toString(), 'd'.repeat(300));
  const manifests = [...lake.objects.keys()].filter((k) => k.startsWith('_tributary/manifests/site=site-a/'));
  assert.equal(manifests.length, 1);
  assert.equal(lake.objects.get(manifests[0]!)!.data.toString().trim().split('\n').length, 3);
  const heartbeat = heartbeatOf(lake);
  assert.deepEqual([heartbeat.mode, heartbeat.state, heartbeat.reachable], ['once', 'stopped', { edge: true, core: true }]);

  const again = await runSyncOnce(config, options(), { logger: silentLogger, source, lake });
  assert.deepEqual([again.scan.listed, again.scan.queued, again.run.landed, again.landedBytes], [3, 0, 0, 0]);
});

test('a core that stays unreachable stops the pass: the outage is named, the objects stay pending, no heartbeat', async (t) => {
  const { config, source } = setUp(t);
  /** Answers the preflight's probe, then nothing: the link went down as the pass started. */
  class DownAfterPreflight extends FakeLake {
    private probes = 0;
    override async probe() {
      this.probes += 1;
      if (this.probes > 1) throw mapS3Error(sdkError.network(), 'core', 'probe');
    }
  }
  const lake = new DownAfterPreflight();
  lake.failNext('put', sdkError.network, 1000);
  // Enough objects for three failures in a row, which open the breaker (one would only be deferred).
  for (const key of ['a', 'b', 'c', 'd', 'e']) source.put('edge', `${key}.json`, key);
  const result = await runSyncOnce(
    config,
    { ...options(), retryWindowMs: 60_000, maxOutageMs: 300 },
    { logger: silentLogger, source, lake },
  );
  assert.equal(result.run.stoppedBy, 'outage');
  assert.equal(result.outage, 'core unreachable (refused)');
  assert.deepEqual([result.run.landed, result.backlog.pendingObjects], [0, 5]);
  assert.equal(lake.objects.has(heartbeatKey('site-a')), false, 'the core does not answer: no heartbeat');
});

test('an edge that refuses connections at preflight: the pass throws, and its heartbeat says the edge is unreachable', async (t) => {
  const { config, source, lake } = setUp(t);
  source.failNext('list', sdkError.network, 10);
  await assert.rejects(runSyncOnce(config, options(), { logger: silentLogger, source, lake }), { code: 'TRIB_ERR_EDGE_UNREACHABLE' });
  const heartbeat = heartbeatOf(lake);
  assert.deepEqual(heartbeat.reachable, { edge: false, core: true });
  assert.equal(heartbeat.outage?.side, 'edge');
});
