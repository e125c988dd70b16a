/**
 * `tributary config check` and the command line's usage errors, through the built CLI
 * (dist/cli/bin.js: `npm run build` first).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { parse } from 'yaml';

import { runCli, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Distinctive values: if any shows up in the output, a secret leaked. */
const SECRETS = {
  EDGE_ACCESS_KEY: 'EDGEACCESS-c0ffee-4e1a',
  EDGE_SECRET_KEY: 'edge-secret-9f8e7d6c5b4a-do-not-print',
  CORE_ACCESS_KEY: 'COREACCESS-decaf-77b2',
  CORE_SECRET_KEY: 'core-secret-0a1b2c3d4e5f-do-not-print',
  CORE_SESSION_TOKEN: 'core-session-token-5e5510n-do-not-print',
  TRIBUTARY_TOKEN: 'http-bearer-token-b3a7e4-do-not-print',
};

/** The design's example config as this version accepts it (examples/tributary.yaml), with a session token as well. */
const CONFIG = `site: store-0042
journal: ./tributary-data
edge:
  endpoint: http://127.0.0.1:9000
  region: us-east-1
  forcePathStyle: true
  credentials:
    accessKeyId: \${EDGE_ACCESS_KEY}
    secretAccessKey: \${EDGE_SECRET_KEY}
  buckets:
    - telemetry
    - { name: pos, prefix: receipts/ }
core:
  endpoint: https://s3.eu-west-1.amazonaws.com
  region: eu-west-1
  forcePathStyle: false
  credentials: { accessKeyId: \${CORE_ACCESS_KEY}, secretAccessKey: \${CORE_SECRET_KEY}, sessionToken: \${CORE_SESSION_TOKEN} }
  bucket: lake
  keyTemplate: "{site}/{bucket}/{key}"
rules:
  - match: { bucket: pos, prefix: receipts/ }
    priority: critical
  - match: { suffix: .jsonl }
    compress: none
  - match: { prefix: tmp/ }
    exclude: true
transfer:
  concurrency: 8
  partSize: 16MiB
bandwidth:
  - { window: "Mon-Fri 08:00-18:00", limit: unlimited }
  - { limit: unlimited }
scan:
  interval: 60s
http:
  listen: 127.0.0.1:9464
  token: \${TRIBUTARY_TOKEN}
`;

function assertNoSecrets(result: CliResult): void {
  for (const [name, secret] of Object.entries(SECRETS)) {
    assert.ok(!result.stdout.includes(secret), `${name} leaked to stdout`);
    assert.ok(!result.stderr.includes(secret), `${name} leaked to stderr`);
  }
}

function writeFile(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('tributary config check', () => {
  it('prints the effective config with every secret redacted and exits 0', async (t) => {
    const dir = tempDir(t);
    const file = writeFile(dir, 'tributary.yaml', CONFIG);
    const result = await runCli(['config', 'check', '-c', file], { env: SECRETS });
    assert.equal(result.code, 0, result.stderr);
    assertNoSecrets(result);

    const [header, ...rest] = result.stdout.split('\n');
    assert.equal(header, `# ${file}: valid`);
    const shown = parse(rest.join('\n')) as {
      site: string;
      journal: string;
      edge: { credentials: Record<string, string>; buckets: unknown };
      core: { credentials: Record<string, string>; bucket: string; keyTemplate: string };
      transfer: Record<string, unknown>;
      scan: Record<string, unknown>;
      bandwidth: unknown;
      http: Record<string, unknown>;
    };
    assert.deepEqual(shown.edge.credentials, { accessKeyId: '[redacted]', secretAccessKey: '[redacted]' });
    assert.deepEqual(shown.core.credentials, {
      accessKeyId: '[redacted]',
      secretAccessKey: '[redacted]',
      sessionToken: '[redacted]',
    });
    assert.equal(shown.http['token'], '[redacted]');
    assert.equal(shown.http['listen'], '127.0.0.1:9464');

    // The effective config: normalised, defaulted, in the units a config file writes.
    assert.equal(shown.site, 'store-0042');
    assert.equal(shown.journal, join(dir, 'tributary-data'));
    assert.deepEqual(shown.edge.buckets, [
      { name: 'telemetry', prefix: '' },
      { name: 'pos', prefix: 'receipts/' },
    ]);
    assert.equal(shown.core.keyTemplate, '{site}/{bucket}/{key}');
    assert.equal(shown.transfer['partSize'], '16MiB');
    assert.equal(shown.transfer['multipartThreshold'], '64MiB');
    assert.equal(shown.transfer['bufferThreshold'], '8MiB');
    assert.equal(shown.transfer['concurrency'], 8);
    assert.equal(shown.scan['interval'], '1m');
    assert.deepEqual(shown.bandwidth, [{ window: 'Mon-Fri 08:00-18:00', limit: 'unlimited' }, { limit: 'unlimited' }]);
    assert.equal((shown as unknown as { retention: { deleteFromEdgeAfter: string } }).retention.deleteFromEdgeAfter, 'never');
  });

  it('refuses, naming each field, what this version cannot do (compression, bandwidth limits, a rule for another bucket)', async (t) => {
    const dir = tempDir(t);
    const asking = CONFIG.replace('    compress: none\n', '    compress: zstd\n')
      .replace('limit: unlimited }\n  - { limit: unlimited }', 'limit: 2MiB/s }\n  - { limit: unlimited }')
      .replace('match: { bucket: pos, prefix: receipts/ }', 'match: { bucket: receipts, prefix: receipts/ }');
    const file = writeFile(dir, 'tributary.yaml', asking);
    const result = await runCli(['config', 'check', '-c', file], { env: SECRETS });
    assert.equal(result.code, 2, result.stdout);
    assert.match(
      result.stderr,
      /rules\[0\]\.match\.bucket: "receipts" is not one of this site's edge buckets \(telemetry, pos\): the rule would never match/,
    );
    assert.match(
      result.stderr,
      /rules\[1\]\.compress: "zstd" is refused: this version of Tributary lands objects as they are; remove it or set none/,
    );
    assert.match(
      result.stderr,
      /bandwidth\[0\]\.limit: is refused: this version of Tributary sends at full speed and would not hold a limit/,
    );
    assertNoSecrets(result);
  });

  it('reads tributary.yaml from the working folder when -c is not given', async (t) => {
    const dir = tempDir(t);
    writeFile(dir, 'tributary.yaml', 'site: store-1\nedge: { buckets: [telemetry] }\ncore: { bucket: lake }\n');
    const result = await runCli(['config', 'check'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^# tributary\.yaml: valid\n/);
    assert.match(result.stdout, /^site: store-1$/m);
  });

  it('an invalid config exits 2 and prints each problem with its path, and no secret', async (t) => {
    const dir = tempDir(t);
    const broken = CONFIG.replace('site: store-0042', 'site: Store_42')
      .replace('  bucket: lake\n', '  bucketz: lake\n')
      .replace('concurrency: 8', 'concurrency: lots')
      .replace('partSize: 16MiB', 'partSize: big')
      .replace('interval: 60s', 'interval: soon')
      .replace('priority: critical', 'priority: urgent')
      .replace('match: { prefix: tmp/ }', 'match: { prfix: tmp/ }');
    const file = writeFile(dir, 'broken.yaml', broken);
    // TRIBUTARY_TOKEN left unset (an undefined value is not passed to the child).
    const result = await runCli(['config', 'check', '-c', file], { env: { ...SECRETS, TRIBUTARY_TOKEN: undefined } });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    assertNoSecrets(result);
    assert.ok(result.stderr.includes(`invalid config ${file}:\n`), result.stderr);
    const problems = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('  '))
      .map((line) => line.trim());
    assert.deepEqual(problems.sort(), [
      'core.bucket: required',
      'core.bucketz: unknown field',
      'http.token: environment variable TRIBUTARY_TOKEN is not set',
      'rules[0].priority: expected one of critical, high, normal, bulk, got "urgent"',
      'rules[2].match.prfix: unknown field',
      'scan.interval: expected a duration such as 60s, 5m or 1h, got "soon"',
      'site: expected a site name of a-z, 0-9 and "-" (at most 63, not starting or ending with "-"), got "Store_42"',
      'transfer.concurrency: expected a positive integer, got "lots"',
      'transfer.partSize: expected a size such as 16MiB, got "big"',
    ]);
  });

  it('a YAML syntax error exits 2 and names the line', async (t) => {
    const file = writeFile(tempDir(t), 'bad.yaml', 'site: store-1\nedge:\n\tbuckets: [telemetry]\n');
    const result = await runCli(['config', 'check', '-c', file]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /YAML syntax error at line 3, column 1: /);
  });

  it('a CA bundle that cannot be read exits 2 naming the field; a relative one is found next to the config', async (t) => {
    const dir = tempDir(t);
    writeFile(dir, 'tributary.yaml', 'site: store-1\nedge: { buckets: [telemetry], caBundle: certs/ca.pem }\ncore: { bucket: lake }\n');
    const missing = await runCli(['config', 'check', '-c', join(dir, 'tributary.yaml')]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /edge\.caBundle: cannot read .*certs\/ca\.pem/);
    mkdirSync(join(dir, 'certs'));
    writeFile(dir, 'certs/ca.pem', '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
    const found = await runCli(['config', 'check', '-c', join(dir, 'tributary.yaml')], { cwd: tempDir(t) });
    assert.equal(found.code, 0, found.stderr);
  });

  it("a file with only core and fleet is checked as the fleet view's config", async (t) => {
    const dir = tempDir(t);
    const file = writeFile(
      dir,
      'core.yaml',
      'core: { bucket: lake, credentials: { accessKeyId: AK, secretAccessKey: SK } }\nfleet: { lagThreshold: 10m }\n',
    );
    const result = await runCli(['config', 'check', '-c', file]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /valid for tributary fleet/);
    assert.match(result.stdout, /lagThreshold: 10m/);
    assert.doesNotMatch(result.stdout, /SK/);
    const broken = await runCli([
      'config',
      'check',
      '-c',
      writeFile(dir, 'bad.yaml', 'core: { bucket: lake }\nfleet: { lagThreshold: soon }\n'),
    ]);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /fleet\.lagThreshold: expected a duration/);
    assert.doesNotMatch(broken.stderr, /site: required/);
  });

  it('a missing config file exits 2 and names the file', async (t) => {
    const file = join(tempDir(t), 'nowhere.yaml');
    const result = await runCli(['config', 'check', '-c', file]);
    assert.equal(result.code, 2, result.stderr);
    assert.ok(result.stderr.includes(`cannot read ${file}`), result.stderr);
  });
});

describe('tributary usage', () => {
  it('an unknown verb exits 2', async () => {
    const result = await runCli(['frobnicate']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown command 'frobnicate'/);
  });

  it('an unknown sub-verb or option exits 2', async () => {
    const sub = await runCli(['config', 'fix']);
    assert.equal(sub.code, 2, sub.stderr);
    const option = await runCli(['config', 'check', '--bogus']);
    assert.equal(option.code, 2, option.stderr);
    assert.match(option.stderr, /unknown option '--bogus'/);
  });

  it('a missing option or option argument exits 2', async () => {
    const noArgument = await runCli(['config', 'check', '-c']);
    assert.equal(noArgument.code, 2);
    assert.match(noArgument.stderr, /argument missing/);
    const noOnce = await runCli(['sync']);
    assert.equal(noOnce.code, 2);
    assert.match(noOnce.stderr, /required option '--once' not specified/);
  });

  it('--help lists every verb and exits 0', async () => {
    const result = await runCli(['--help']);
    assert.equal(result.code, 0, result.stderr);
    for (const verb of ['agent', 'sync', 'status', 'verify', 'retry', 'config', 'demo']) {
      assert.match(result.stdout, new RegExp(`^\\s+${verb}\\b`, 'm'), `--help does not list ${verb}`);
    }
  });
});
