/**
 * Secrets never leave the process: with distinctive credentials and token, every command's output,
 * the agent's logs at debug level, its HTTP answers, and the heartbeat and manifests it writes are
 * searched for them.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { killIfRunning, listeningAddress, runCli, spawnCli } from '../helpers/cli.js';
import { getObject, listKeys, putObject, startTestS3 } from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';
import { writeTestConfig } from '../helpers/test-config.js';

const EDGE = { accessKeyId: 'EDGEAKIDZQ7731', secretAccessKey: 'edgeSecretXq91Lm0Pz' };
const CORE = { accessKeyId: 'COREAKIDWV5520', secretAccessKey: 'coreSecretJh44Rt8Nb' };
const TOKEN = 'tokenSecretKk27Ue5';
const SECRETS = [EDGE.accessKeyId, EDGE.secretAccessKey, CORE.accessKeyId, CORE.secretAccessKey, TOKEN];

function assertClean(where: string, text: string): void {
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${where} contains ${secret}`);
}

test('no access key, secret or token in any output, log, HTTP answer, heartbeat or manifest', async (t) => {
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge'], EDGE);
  const core = await startTestS3(t, dir, 'core', ['lake'], CORE);
  for (let i = 0; i < 3; i += 1) await putObject(edge, 'edge', `s/${i}.txt`, `secret-free ${i}`);
  const env = {
    EDGE_KEY: EDGE.accessKeyId,
    EDGE_SECRET: EDGE.secretAccessKey,
    CORE_KEY: CORE.accessKeyId,
    CORE_SECRET: CORE.secretAccessKey,
    TRIB_TOKEN: TOKEN,
  };
  const config = writeTestConfig(dir, edge, core, {
    edgeCredentials: { accessKeyId: '${EDGE_KEY}', secretAccessKey: '${EDGE_SECRET}' },
    coreCredentials: { accessKeyId: '${CORE_KEY}', secretAccessKey: '${CORE_SECRET}' },
    extra: { http: { token: '${TRIB_TOKEN}' }, scan: { interval: '1s' }, heartbeat: { interval: '1s' }, manifests: { interval: '1s' } },
  });

  for (const args of [
    ['config', 'check', '-c', config],
    ['sync', '--once', '-c', config, '--log-level', 'trace'],
    ['status', '-c', config],
    ['status', '--json', '-c', config],
    ['verify', '--deep', '-c', config, '--log-level', 'trace'],
    ['retry', '-c', config],
  ]) {
    const result = await runCli(args, { env });
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    assertClean(args.slice(0, 2).join(' '), result.stdout + result.stderr);
  }
  // A failing command's messages too: refused credentials, and an invalid config.
  const refused = await runCli(['sync', '--once', '-c', config], { env: { ...env, CORE_KEY: 'NOTAKEY' } });
  assert.equal(refused.code, 2);
  assertClean('refused credentials', refused.stdout + refused.stderr);

  await putObject(edge, 'edge', 's/late.txt', 'late');
  const agent = spawnCli(['agent', '-c', config, '--log-level', 'trace'], { env });
  t.after(() => killIfRunning(agent));
  const deadline = Date.now() + 30_000;
  while (!agent.stderr().includes('"http listening"') || !(await listKeys(core, 'lake', 'site-a/')).includes('site-a/edge/s/late.txt')) {
    assert.ok(Date.now() < deadline, agent.stderr());
    await sleep(100);
  }
  const address = await listeningAddress(agent);
  const status = await fetch(`http://${address}/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(status.status, 200);
  assertClean('/status', await status.text());
  assertClean('/metrics', await (await fetch(`http://${address}/metrics`)).text());
  assertClean(
    '/events answer',
    await (await fetch(`http://${address}/events`, { method: 'POST', body: '{', headers: { authorization: `Bearer ${TOKEN}` } })).text(),
  );
  await sleep(1500);
  agent.child.kill('SIGTERM');
  const stopped = await agent.done;
  assert.equal(stopped.code, 0);
  assertClean('agent log', stopped.stdout + stopped.stderr);

  const written = await listKeys(core, 'lake', '_tributary/');
  assert.ok(written.some((k) => k.endsWith('heartbeat.json')) && written.some((k) => k.endsWith('.ndjson')), written.join());
  for (const key of written) assertClean(key, (await getObject(core, 'lake', key)).toString());
});
