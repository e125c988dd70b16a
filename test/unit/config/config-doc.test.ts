/**
 * docs/config.md is generated from the schema by scripts/gen-config-doc.ts; it must not drift
 * from the schema, and what it shows must be true of the loader.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { parse as parseYaml } from 'yaml';

import { CONFIG_DOC_PATH, EXAMPLE, renderConfigDoc } from '../../../scripts/gen-config-doc.js';
import { loadConfigFile, parseConfig } from '../../../src/config/load.js';
import { tempDir } from '../../helpers/temp-dir.js';

const doc = readFileSync(CONFIG_DOC_PATH, 'utf8');

interface Row {
  readonly path: string;
  readonly type: string;
  readonly default: string;
  readonly description: string;
}

/** The rows of the table of the "Fields" section. */
function fieldRows(): Row[] {
  const start = doc.indexOf('\n## Fields\n');
  assert.ok(start >= 0, 'no "## Fields" section');
  const end = doc.indexOf('\n## ', start + 1);
  return doc
    .slice(start, end < 0 ? undefined : end)
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const cells = line.slice(2, -2).split(/(?<!\\) \| /);
      const [path = '', type = '', def = '', description = ''] = cells;
      return { path: path.replaceAll('`', ''), type, default: def, description };
    })
    .filter((row) => row.path !== 'Field');
}

const minimal = () => ({ site: 'store-1', edge: { buckets: ['telemetry'] }, core: { bucket: 'lake' } });
const load = (raw: unknown) => parseConfig(raw, 'doc', { env: {}, baseDir: '/srv' });

describe('docs/config.md', () => {
  it('is what scripts/gen-config-doc.ts generates from the schema (run it after changing the schema)', () => {
    assert.ok(
      doc === renderConfigDoc(),
      'docs/config.md is out of date: run node --import tsx scripts/gen-config-doc.ts and commit the result',
    );
  });

  it('documents every field of the contract, each with a description', () => {
    const rows = fieldRows();
    const paths = rows.map((row) => row.path);
    for (const path of [
      'site',
      'journal',
      'edge.endpoint',
      'edge.region',
      'edge.forcePathStyle',
      'edge.credentials.accessKeyId',
      'edge.credentials.secretAccessKey',
      'edge.buckets',
      'edge.buckets[].name',
      'edge.buckets[].prefix',
      'core.endpoint',
      'core.credentials.secretAccessKey',
      'core.bucket',
      'core.keyTemplate',
      'rules[].match.bucket',
      'rules[].match.prefix',
      'rules[].match.suffix',
      'rules[].priority',
      'rules[].compress',
      'rules[].exclude',
      'transfer.concurrency',
      'transfer.partSize',
      'bandwidth[].window',
      'bandwidth[].limit',
      'scan.interval',
      'deletes',
      'http.listen',
      'http.token',
    ]) {
      assert.ok(paths.includes(path), `${path} is not documented`);
    }
    for (const row of rows) assert.notEqual(row.description.trim(), '', `${row.path} has no description`);
    assert.equal(new Set(paths).size, paths.length, 'a field is listed twice');
  });

  it('shows the real defaults, in their units', () => {
    // Write every documented default into a config: it must load exactly like one that leaves
    // them all out.
    const withDefaults: Record<string, unknown> = minimal();
    let checked = 0;
    for (const row of fieldRows()) {
      const literal = /^`(.*)`$/.exec(row.default)?.[1];
      if (literal === undefined || row.path.includes('[]')) continue;
      const value = row.type === 'string' ? literal : (parseYaml(literal) as unknown);
      const parts = row.path.split('.');
      let target = withDefaults;
      for (const part of parts.slice(0, -1)) {
        target[part] ??= {};
        target = target[part] as Record<string, unknown>;
      }
      target[parts.at(-1)!] = value;
      checked += 1;
    }
    assert.ok(checked >= 20, `only ${checked} defaults found in the table`);
    assert.deepEqual(load(withDefaults), load(minimal()));
  });

  it('required fields are the ones the loader requires', () => {
    const required = fieldRows()
      .filter((row) => row.default === '**required**' && !row.path.includes('[]') && !row.path.includes('credentials.'))
      .map((row) => row.path);
    assert.deepEqual(required, ['site', 'edge', 'edge.buckets', 'core', 'core.bucket']);
  });

  it('has the example of the design, and it loads', (t) => {
    assert.ok(doc.includes(`\`\`\`yaml\n${EXAMPLE}\`\`\``));
    const file = join(tempDir(t), 'tributary.yaml');
    writeFileSync(file, EXAMPLE);
    const variables = [...EXAMPLE.matchAll(/\$\{([A-Z_]+)\}/g)].map((match) => match[1]!).filter((name) => name !== 'VAR');
    const env = Object.fromEntries(variables.map((name) => [name, `value-of-${name}`]));
    const config = loadConfigFile(file, { env });
    assert.equal(config.site, 'store-0042');
    assert.equal(config.core.credentials?.secretAccessKey, 'value-of-CORE_SECRET_KEY');
  });

  it('explains ${VAR}, the units, the rule order and what this version refuses', () => {
    for (const heading of [
      '## Environment variables: `${VAR}`',
      '### Sizes',
      '### Durations',
      '### Rates',
      '## Rules: which rule applies',
      '## Refused by this version',
    ]) {
      assert.ok(doc.includes(`\n${heading}\n`), `missing section ${heading}`);
    }
    const refused = doc.slice(doc.indexOf('## Refused by this version'));
    for (const field of ['`rules[].compress`', '`bandwidth[].limit`', '`edge.checksums`']) assert.ok(refused.includes(field), field);
    assert.ok(!refused.includes('deletes: propagate'), 'deletes: propagate is applied now');
    assert.match(doc, /first\*\* rule whose `match` fits/);
  });
});
