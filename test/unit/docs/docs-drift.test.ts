import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { ERROR_CODES } from '../../../src/core/errors.js';

test('docs/errors.md lists every error code with its class', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const codes = Object.entries(ERROR_CODES);
  assert.ok(codes.length > 20, `only ${codes.length} error codes: the loop below would check little`);
  for (const [code, errorClass] of codes) {
    assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${errorClass} \\|`), `${code} (${errorClass}) is missing or has the wrong class`);
  }
});

/** The table that starts with the line beginning `header` (the header, its rule and its rows). */
function tableAt(doc: string, header: string): string {
  const lines = doc.split('\n');
  const start = lines.findIndex((line) => line.startsWith(header));
  assert.ok(start >= 0, `no table starting with ${header}`);
  let end = start;
  while (end < lines.length && lines[end]!.startsWith('|')) end += 1;
  return lines.slice(start, end).join('\n');
}

test('docs/operations.md carries the same error and metric tables as errors.md and metrics.md', () => {
  const read = (name: string) => readFileSync(new URL(`../../../docs/${name}`, import.meta.url), 'utf8');
  const operations = read('operations.md');
  assert.equal(tableAt(operations, '| Code | Class |'), tableAt(read('errors.md'), '| Code | Class |'));
  assert.equal(tableAt(operations, '| Name | Type | Unit |'), tableAt(read('metrics.md'), '| Name | Type | Unit |'));
});

test('docs/metrics.md lists every metric the agent registers', async () => {
  const { createAgentMetrics } = await import('../../../src/observability/metrics.js');
  const { createOutageLog } = await import('../../../src/observability/outages.js');
  const clock = { now: () => 0 };
  const journal = {
    backlog: () => [],
    oldestPendingSince: () => undefined,
    adoptedTotals: () => ({ objects: 0, bytes: 0 }),
    settledCounts: () => ({ vanished: { objects: 0, bytes: 0 }, forgotten: { objects: 0, bytes: 0 } }),
    relandings: () => ({ repair: 0, 'core-copy-missing': 0 }),
  } as unknown as Parameters<typeof createAgentMetrics>[0];
  const metrics = createAgentMetrics(journal, clock, createOutageLog(clock));
  const doc = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8');
  const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name).filter((name) => name.startsWith('tributary_'));
  assert.ok(names.length > 10, names.join(', '));
  for (const name of names) assert.match(doc, new RegExp(`\\| \`${name}\` \\|`), `${name} is not in docs/metrics.md`);
});
