/**
 * Odd source keys end to end: every key the edge server can hold lands exactly once, inside the
 * site prefix, under a distinct core key; plain keys land verbatim. (The full corpus, including
 * keys s3rver cannot store, is covered by test/unit/core/core-key.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { escapeOddKey, isPlainKey } from '../../src/core/core-key.js';
import { runCli } from '../helpers/cli.js';
import { getObject, listKeys, putObject, startTestS3 } from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';
import { writeTestConfig } from '../helpers/test-config.js';

const longKey = Array.from({ length: 5 }, (_, i) => `segment-${i}-${'x'.repeat(190)}`)
  .join('/')
  .slice(0, 1000);

// Keys s3rver stores and lists faithfully (it maps keys to file paths, so `..`, `.` and empty
// segments cannot be tested against it).
const KEYS = [
  'back\\slash',
  'a\\..\\b',
  'données/été.json',
  'données/été.json'.normalize('NFD'),
  'emoji/😀.txt',
  'rtl/\u202Egnp.exe',
  'zw/\u200Bx',
  '100%.txt',
  '%2E%2E/x',
  'a+b c.txt',
  'hash#frag',
  'q?x=1',
  'with space/file name.csv',
  'ctrl/\u0001x',
  "amp&lt;&gt;/&quot;q's&.txt",
  'logs/',
  '...',
  '.hidden/file',
  'zero-byte',
  'sp/ trailing ',
  longKey,
];

test('odd keys round-trip: each lands once, inside the site prefix, under a distinct key', async (t) => {
  assert.equal(Buffer.byteLength(longKey), 1000);
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const bodies = new Map(
    KEYS.map((key, i) => [key, key === 'zero-byte' || key === 'logs/' ? Buffer.alloc(0) : Buffer.from(`object ${i}: ${key}`)]),
  );
  for (const [key, body] of bodies) await putObject(edge, 'edge', key, body);
  const config = writeTestConfig(dir, edge, core, { site: 'store-7' });

  const result = await runCli(['sync', '--once', '-c', config]);
  assert.equal(result.code, 0, result.stderr);

  const landed = await listKeys(core, 'lake', 'store-7/');
  assert.equal(landed.length, KEYS.length, `landed: ${JSON.stringify(landed)}`);
  assert.equal(new Set(landed).size, KEYS.length);
  for (const coreKey of landed) {
    assert.ok(coreKey.startsWith('store-7/edge/'), coreKey);
    assert.ok(
      coreKey.split('/').every((s) => s !== '' && s !== '.' && s !== '..'),
      coreKey,
    );
  }
  for (const [key, body] of bodies) {
    const expected = `store-7/edge/${isPlainKey(key) ? key : escapeOddKey(key)}`;
    if (isPlainKey(key)) assert.equal(expected, `store-7/edge/${key}`, 'plain keys land verbatim');
    assert.ok(landed.includes(expected), `${JSON.stringify(key)} -> ${JSON.stringify(expected)}`);
    assert.deepEqual(await getObject(core, 'lake', expected), body, key);
  }
  const verify = await runCli(['verify', '--deep', '-c', config]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});
