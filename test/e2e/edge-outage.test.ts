/**
 * Edge outages are visible everywhere, with their reason, and clear by themselves: a running
 * `tributary agent` whose edge stops answering (connections refused), answers 5xx to everything,
 * or refuses the agent's credentials. Within 30 s (the scan interval here is 2 s, so within one
 * interval but for the probes' own timing) /metrics says tributary_edge_reachable 0, the heartbeat
 * in the core says since when and why, `tributary status` says so in its first lines and
 * `tributary fleet` shows the site degraded with the reason (exit 1). When the edge is back, all of
 * it clears, and the agent, still running, replicates what was written meanwhile and after. Once
 * more with the default scan.interval (60 s) and heartbeat.interval (30 s): the 30 s bound holds
 * for an idle agent too (its own probes).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';

import { stringify } from 'yaml';

import { killIfRunning, listeningAddress, runCli, spawnCli, type CliProcess } from '../helpers/cli.js';
import { getObject, listKeys, putObject, readJsonBeingRewritten, startTestS3, type TestS3 } from '../helpers/local-s3.js';
import { startRewritingProxy, type Answer } from '../helpers/rewriting-proxy.js';
import { startTcpRelay } from '../helpers/tcp-relay.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testConfigDocument } from '../helpers/test-config.js';
import { waitFor } from '../helpers/wait.js';

const HEARTBEAT = '_tributary/sites/site-a/heartbeat.json';

interface EndpointView {
  reachable: boolean;
  since: string;
  reason: string | null;
  detail: string | null;
  checkedAt: string;
}
interface Heartbeat {
  reachable: { edge: boolean; core: boolean };
  endpoints?: { edge: EndpointView; core: EndpointView };
  outage: { side: string; since: string } | null;
  lastOutage: { side: string } | null;
}

/** One sample of a Prometheus text exposition, or undefined when it is not there. */
function sample(metrics: string, name: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** A fault the test switches on and off in front of the edge. */
interface EdgeFault {
  readonly endpoint: string;
  set(on: boolean): Promise<void>;
}

/** Connections refused: a relay that stops listening. */
async function refusingEdge(t: TestContext, edge: TestS3): Promise<EdgeFault> {
  const relay = await startTcpRelay(edge.port);
  t.after(() => relay.close());
  return { endpoint: relay.endpoint, set: (on) => relay.setRefusing(on) };
}

/** Every answer replaced (a proxy in front of the edge). */
async function answeringEdge(t: TestContext, edge: TestS3, answer: Answer): Promise<EdgeFault> {
  let on = false;
  const proxy = await startRewritingProxy(edge.port, () => (on ? { answer: () => answer } : undefined));
  t.after(() => proxy.close());
  return {
    endpoint: proxy.endpoint,
    set: async (next) => {
      on = next;
    },
  };
}

const badGateway: Answer = {
  status: 502,
  headers: { 'content-type': 'text/html' },
  body: Buffer.from('<html><head><title>502 Bad Gateway</title></head><body><center>502 Bad Gateway</center></body></html>'),
};
const unknownKey: Answer = {
  status: 403,
  headers: { 'content-type': 'application/xml' },
  body: Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message></Error>',
  ),
};

interface Views {
  metric?: number | undefined;
  heartbeat?: EndpointView | undefined;
  status?: string[];
  fleet?: { code: number | null; status?: string; reason?: string };
}

/** Everything that shows the edge's reachability, read once. */
async function look(agentAddress: string, core: TestS3, config: string): Promise<Views> {
  const views: Views = {};
  views.metric = sample(await (await fetch(`http://${agentAddress}/metrics`)).text(), 'tributary_edge_reachable');
  const beat = (await readJsonBeingRewritten(core, 'lake', HEARTBEAT)) as Heartbeat | undefined;
  views.heartbeat = beat?.endpoints?.edge;
  const status = await runCli(['status', '-c', config]);
  views.status = status.stdout.split('\n').slice(0, 3);
  const fleet = await runCli(['fleet', '--json', '-c', config]);
  try {
    const site = (JSON.parse(fleet.stdout) as { sites: { site: string; status: string; reason: string }[] }).sites.find(
      (s) => s.site === 'site-a',
    );
    views.fleet = { code: fleet.code, ...(site === undefined ? {} : { status: site.status, reason: site.reason }) };
  } catch {
    views.fleet = { code: fleet.code };
  }
  return views;
}

async function scenario(
  t: TestContext,
  options: {
    readonly fault: (t: TestContext, edge: TestS3) => Promise<EdgeFault>;
    readonly reason: string;
    /** Defaults (60 s, 30 s) when undefined. */
    readonly scanInterval?: string;
    readonly heartbeatInterval?: string;
    /** Objects written at the edge during the outage and after it, which must land. */
    readonly replicateAfterwards: boolean;
  },
): Promise<void> {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const fault = await options.fault(t, edge);
  const doc = testConfigDocument(dir, edge, core, {
    extra: {
      ...(options.scanInterval === undefined ? {} : { scan: { interval: options.scanInterval } }),
      ...(options.heartbeatInterval === undefined ? {} : { heartbeat: { interval: options.heartbeatInterval } }),
    },
  });
  (doc['edge'] as Record<string, unknown>)['endpoint'] = fault.endpoint;
  const config = join(dir, 'tributary.yaml');
  writeFileSync(config, stringify(doc));

  await putObject(edge, 'edge', 'before.txt', 'before the outage');
  const agent: CliProcess = spawnCli(['agent', '-c', config, '--log-level', 'info']);
  t.after(() => killIfRunning(agent));
  const address = await listeningAddress(agent);
  await waitFor('the first object to land', async () => (await listKeys(core, 'lake', 'site-a/')).length === 1, 30_000);
  let views: Views = {};
  const explain = () => `${JSON.stringify(views, null, 2)}\n${agent.stderr().slice(-4000)}`;
  await waitFor(
    'a heartbeat that says the edge is reachable',
    async () => {
      views = await look(address, core, config);
      return views.heartbeat?.reachable === true && views.metric === 1 && views.fleet?.status === 'healthy';
    },
    45_000,
    explain,
  );

  // The outage. Everything must say so within 30 s of it, with the reason.
  await fault.set(true);
  const outageStarted = Date.now();
  const seen = { metric: false, heartbeat: false, status: false, fleet: false };
  await waitFor(
    `the ${options.reason} outage on /metrics, in the heartbeat, status and fleet`,
    async () => {
      views = await look(address, core, config);
      seen.metric ||= views.metric === 0;
      const beat = views.heartbeat;
      seen.heartbeat ||=
        beat?.reachable === false &&
        beat.reason === options.reason &&
        Date.parse(beat.since) >= outageStarted - 1000 &&
        (beat.detail ?? '').length > 0 &&
        !(beat.detail ?? '').includes('127.0.0.1');
      seen.status ||= new RegExp(
        `^edge: UNREACHABLE since \\d\\d:\\d\\d:\\d\\d \\(\\d+s ago\\): ${options.reason}: .+; last checked \\d\\d:\\d\\d:\\d\\d \\(\\d+s ago\\)$`,
      ).test(views.status?.[1] ?? '');
      seen.fleet ||=
        views.fleet?.code === 1 &&
        views.fleet.status === 'degraded' &&
        new RegExp(`^edge unreachable since \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ \\(${options.reason}\\)$`).test(
          views.fleet.reason ?? '',
        );
      return seen.metric && seen.heartbeat && seen.status && seen.fleet;
    },
    30_000,
    () => `${JSON.stringify(seen)} ${explain()}`,
  );
  assert.equal(views.status?.[0], 'site site-a');
  assert.match(views.status?.[2] ?? '', /^core: reachable; last checked/);
  assert.equal(agent.child.exitCode, null, 'the agent keeps running through the outage');
  if (options.replicateAfterwards) await putObject(edge, 'edge', 'during.txt', 'written while the agent could not see it');

  // The edge is back: all of it clears by itself.
  await fault.set(false);
  await waitFor(
    'the outage to clear everywhere',
    async () => {
      views = await look(address, core, config);
      return (
        views.metric === 1 &&
        views.heartbeat?.reachable === true &&
        views.heartbeat.reason === null &&
        (views.status?.[1] ?? '').startsWith('edge: reachable; last checked') &&
        views.fleet?.code === 0 &&
        views.fleet.status === 'healthy'
      );
    },
    60_000,
    explain,
  );
  const beat = (await readJsonBeingRewritten(core, 'lake', HEARTBEAT)) as Heartbeat | undefined;
  if (beat !== undefined) assert.equal(beat.outage, null, JSON.stringify(beat));

  if (options.replicateAfterwards) {
    await putObject(edge, 'edge', 'after.txt', 'written after the outage');
    await waitFor(
      'what was written during and after the outage to land',
      async () => (await listKeys(core, 'lake', 'site-a/')).length === 3,
      30_000,
      explain,
    );
    assert.equal((await getObject(core, 'lake', 'site-a/edge/during.txt')).toString(), 'written while the agent could not see it');
    assert.equal((await getObject(core, 'lake', 'site-a/edge/after.txt')).toString(), 'written after the outage');
  }
  agent.child.kill('SIGTERM');
  const result = await agent.done;
  assert.equal(result.code, 0, result.stderr.slice(-4000));
}

const FAST = { scanInterval: '2s', heartbeatInterval: '1s', replicateAfterwards: true } as const;

test('edge outage: connections refused', async (t) => {
  await scenario(t, { ...FAST, fault: refusingEdge, reason: 'refused' });
});

test('edge outage: 5xx for every request (a proxy whose backend is down)', async (t) => {
  await scenario(t, { ...FAST, fault: (t2, edge) => answeringEdge(t2, edge, badGateway), reason: 'http-5xx' });
});

test('edge outage: the edge refuses the credentials while the agent runs (reason auth, not a fatal stop)', async (t) => {
  await scenario(t, { ...FAST, fault: (t2, edge) => answeringEdge(t2, edge, unknownKey), reason: 'auth' });
});

test('edge outage with the default scan and heartbeat intervals: an idle agent shows it within 30 s', async (t) => {
  await scenario(t, { fault: refusingEdge, reason: 'refused', replicateAfterwards: false });
});

test('a site run by sync --once: a run the edge stopped says so in its heartbeat, in status and in fleet; the next good run clears it', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  await putObject(edge, 'edge', 'a.json', '{"a":1}');
  const fault = await refusingEdge(t, edge);
  const doc = testConfigDocument(dir, edge, core, { extra: { heartbeat: { interval: '1h' } } });
  (doc['edge'] as Record<string, unknown>)['endpoint'] = fault.endpoint;
  const file = join(dir, 'tributary.yaml');
  writeFileSync(file, stringify(doc));
  const fleetFile = join(dir, 'fleet.yaml');
  writeFileSync(fleetFile, stringify({ core: doc['core'] }));
  const fleetRow = async () => {
    const fleet = await runCli(['fleet', '--json', '-c', fleetFile]);
    return (JSON.parse(fleet.stdout) as { sites: { site: string; status: string; reason: string }[] }).sites[0]!;
  };

  assert.equal((await runCli(['sync', '--once', '-c', file])).code, 0);
  assert.equal((await fleetRow()).status, 'healthy');

  // The edge refuses connections: this run cannot even begin.
  await fault.set(true);
  const failed = await runCli(['sync', '--once', '-c', file]);
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(failed.stderr, /TRIB_ERR_EDGE_UNREACHABLE/);
  const beat = (await readJsonBeingRewritten(core, 'lake', HEARTBEAT)) as Heartbeat;
  assert.equal(beat.reachable.edge, false);
  assert.equal(beat.endpoints?.edge.reason, 'refused');
  const status = await runCli(['status', '-c', file]);
  assert.match(status.stdout.split('\n').slice(0, 3).join('\n'), /edge: UNREACHABLE since .*refused/);
  const degraded = await fleetRow();
  assert.equal(degraded.status, 'degraded');
  assert.match(degraded.reason, /edge unreachable since .* \(refused\)/);

  // The edge is back: the next run lands what was written meanwhile, and everything says so.
  await fault.set(false);
  await putObject(edge, 'edge', 'b.json', '{"b":2}');
  assert.equal((await runCli(['sync', '--once', '-c', file])).code, 0);
  assert.deepEqual(await getObject(core, 'lake', 'site-a/edge/b.json'), Buffer.from('{"b":2}'));
  assert.equal(((await readJsonBeingRewritten(core, 'lake', HEARTBEAT)) as Heartbeat).reachable.edge, true);
  assert.match((await runCli(['status', '-c', file])).stdout, /edge: reachable/);
  assert.equal((await fleetRow()).status, 'healthy');
});
