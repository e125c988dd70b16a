/**
 * What `config check` prints can be fed back: the effective config in config units parses to the
 * same config, every size, duration, rate and `never` included.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parse as parseYaml, stringify } from 'yaml';

import { inConfigUnits } from '../../../src/config/config-units.js';
import { parseConfig } from '../../../src/config/load.js';
import { rateInConfigUnits } from '../../../src/core/units.js';

const ENV = { EDGE_ACCESS_KEY: 'ek', EDGE_SECRET_KEY: 'es', CORE_ACCESS_KEY: 'ck', CORE_SECRET_KEY: 'cs', TRIBUTARY_TOKEN: 'tok' };

test('the effective config in config units parses back to the same config', () => {
  const raw = {
    site: 'store-0042',
    journal: '/srv/tributary',
    edge: {
      endpoint: 'http://127.0.0.1:9000',
      buckets: ['telemetry', { name: 'pos', prefix: 'receipts/' }],
      requestTimeout: '90s',
      credentials: { accessKeyId: '${EDGE_ACCESS_KEY}', secretAccessKey: '${EDGE_SECRET_KEY}' },
    },
    core: { bucket: 'lake', keyTemplate: '{site}/{bucket}/dt={yyyy}-{mm}-{dd}/{key}' },
    rules: [
      { match: { prefix: 'tmp/' }, exclude: true },
      { match: { prefix: 'keep/' }, retention: { deleteFromEdgeAfter: 'never' } },
      { match: { prefix: 'short/' }, retention: { deleteFromEdgeAfter: '36h' } },
    ],
    transfer: { partSize: '16MiB', memoryLimit: 100_000_000, retryBase: '1500ms', retryCap: '1h30m' },
    bandwidth: [{ window: 'Mon-Fri 08:00-18:00', limit: 'off' }, { limit: 'unlimited' }],
    scan: { interval: '90s' },
    retention: { deleteFromEdgeAfter: '7d' },
    http: { token: '${TRIBUTARY_TOKEN}' },
  };
  const config = parseConfig(raw, 'a.yaml', { env: ENV, baseDir: '/' });
  const printed = stringify(inConfigUnits(config));
  const again = parseConfig(parseYaml(printed), 'b.yaml', { env: ENV, baseDir: '/' });
  assert.deepEqual(again, config);
  // And it reads like a config file, not like milliseconds and bytes.
  const shown = parseYaml(printed) as Record<string, Record<string, unknown>>;
  assert.equal(shown['transfer']!['partSize'], '16MiB');
  assert.equal(shown['transfer']!['memoryLimit'], '100000000');
  assert.equal(shown['transfer']!['retryCap'], '90m');
  assert.equal(shown['transfer']!['retryBase'], '1500ms');
  assert.equal(shown['scan']!['interval'], '90s');
  assert.equal(shown['heartbeat']!['interval'], '30s');
  assert.equal(shown['events']!['maxBodySize'], '8MiB');
  assert.equal(shown['retention']!['deleteFromEdgeAfter'], '7d');
  assert.deepEqual(
    (shown['bandwidth'] as unknown as { limit: string }[]).map((w) => w.limit),
    ['unlimited', 'unlimited'],
  );
  // Finite rates are refused by this version's schema; they print as a config writes them all the same.
  assert.deepEqual(
    [2 * 1024 * 1024, 0].map((rate) => rateInConfigUnits(rate)),
    ['2MiB/s', '0/s'],
  );
  const rules = shown['rules'] as unknown as { retention?: { deleteFromEdgeAfter: string } }[];
  assert.deepEqual(
    rules.map((r) => r.retention?.deleteFromEdgeAfter),
    [undefined, 'never', '36h'],
  );
});
