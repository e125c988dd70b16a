/**
 * The lean S3 client loads undici's Pool and request API only, not the whole package: checked in
 * a fresh process (the test runner itself may have loaded undici), then a real request through
 * the pool, so a Pool without its request API cannot pass.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Pool } from '../../../src/s3/undici-pool.js';

test('importing the pool does not load undici’s index', () => {
  const module = fileURLToPath(new URL('../../../src/s3/undici-pool.ts', import.meta.url));
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(module)});
    const cache = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify({
      index: cache.some((file) => /[\\\\/]undici[\\\\/]index\\.js$/.test(file)),
      pool: cache.some((file) => /[\\\\/]undici[\\\\/]lib[\\\\/]dispatcher[\\\\/]pool\\.js$/.test(file)),
    }));`;
  const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(output.trim()), { index: false, pool: true });
});

test('the pool sends a request and reads its answer', async (t) => {
  const server = createServer((request, response) => response.end(`${request.method} ${request.url}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: 2 });
  t.after(() => pool.close());
  const response = await pool.request({ method: 'GET', path: '/bucket/key?x=1' });
  assert.equal(response.statusCode, 200);
  assert.equal(await response.body.text(), 'GET /bucket/key?x=1');
});
