/**
 * The fleet view's verdicts from a heartbeat alone: a site whose endpoint is down is `degraded`
 * with since when and why, and the order of verdicts when several apply.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { classifySite } from '../../../src/fleet/site-status.js';
import type { HeartbeatEndpoint, HeartbeatV1 } from '../../../src/report/heartbeat.js';

const NOW = Date.parse('2026-11-27T12:10:00Z');
const LAG_THRESHOLD_MS = 300_000;

const up: HeartbeatEndpoint = {
  reachable: true,
  since: '2026-11-27T11:00:00.000Z',
  reason: null,
  detail: null,
  checkedAt: '2026-11-27T12:09:58.000Z',
};
const refused: HeartbeatEndpoint = {
  reachable: false,
  since: '2026-11-27T12:03:04.512Z',
  reason: 'refused',
  detail: 'edge LIST edge/: edge endpoint unreachable (ECONNREFUSED): connect ECONNREFUSED <endpoint>',
  checkedAt: '2026-11-27T12:09:58.000Z',
};

function heartbeat(overrides: Partial<HeartbeatV1> = {}): HeartbeatV1 {
  return {
    schema: 'tributary.heartbeat/v1',
    site: 'store-1',
    agentVersion: '0.1.0',
    startedAt: '2026-11-27T11:00:00.000Z',
    writtenAt: '2026-11-27T12:09:58.000Z',
    state: 'running',
    mode: 'agent',
    intervalSeconds: 30,
    backlog: { pendingObjects: 0, pendingBytes: 0, failedObjects: 0, deadObjects: 0 },
    oldestPendingAgeSeconds: null,
    lag: { windowSeconds: 300, samples: 0, p50Seconds: null, p99Seconds: null },
    throughput: { windowSeconds: 300, objectsPerSecond: 0, bytesPerSecond: 0 },
    reachable: { edge: true, core: true },
    endpoints: { edge: up, core: up },
    outage: null,
    lastOutage: null,
    journalFreeBytes: null,
    ...overrides,
  };
}

const verdict = (beat: HeartbeatV1) => {
  const row = classifySite('store-1', beat, NOW, LAG_THRESHOLD_MS);
  return [row.status, row.reason];
};

test('healthy when both endpoints serve the site', () => {
  assert.deepEqual(verdict(heartbeat()), ['healthy', '']);
});

test('an unreachable endpoint: degraded, with since when and why', () => {
  assert.deepEqual(verdict(heartbeat({ reachable: { edge: false, core: true }, endpoints: { edge: refused, core: up } })), [
    'degraded',
    'edge unreachable since 2026-11-27T12:03:04Z (refused)',
  ]);
  const auth: HeartbeatEndpoint = { ...refused, reason: 'auth', since: '2026-11-27T12:05:00.000Z' };
  assert.deepEqual(verdict(heartbeat({ reachable: { edge: false, core: false }, endpoints: { edge: refused, core: auth } })), [
    'degraded',
    'edge unreachable since 2026-11-27T12:03:04Z (refused); core unreachable since 2026-11-27T12:05:00Z (auth)',
  ]);
});

test('heartbeats of earlier agents: `reachable` alone still makes a site degraded', () => {
  const { endpoints: _none, ...old } = heartbeat({ reachable: { edge: false, core: true } });
  assert.deepEqual(verdict(old), ['degraded', 'edge unreachable']);
  const { endpoints: _gone, ...fine } = heartbeat();
  assert.deepEqual(verdict(fine), ['healthy', '']);
});

test('order: stale and stopped before degraded, degraded before failing and lagging', () => {
  const down = { reachable: { edge: false, core: true }, endpoints: { edge: refused, core: up } };
  const dead = { backlog: { pendingObjects: 5, pendingBytes: 50, failedObjects: 0, deadObjects: 2 } };
  assert.equal(verdict(heartbeat({ ...down, writtenAt: '2026-11-27T11:00:00.000Z' }))[0], 'stale');
  assert.equal(verdict(heartbeat({ ...down, state: 'stopped' }))[0], 'stopped');
  assert.equal(verdict(heartbeat({ ...down, ...dead, oldestPendingAgeSeconds: 900 }))[0], 'degraded');
  assert.equal(verdict(heartbeat({ ...dead, oldestPendingAgeSeconds: 900 }))[0], 'failing');
  assert.equal(verdict(heartbeat({ oldestPendingAgeSeconds: 900 }))[0], 'lagging');
  // A sync --once site whose last run met an edge outage is degraded, not healthy.
  assert.equal(verdict(heartbeat({ ...down, mode: 'once', state: 'stopped' }))[0], 'degraded');
});

test('vanished and forgotten objects never make a site unhealthy; dead ones make it failing', () => {
  const settled = { pendingObjects: 0, pendingBytes: 0, failedObjects: 0, deadObjects: 0, vanishedObjects: 40, forgottenObjects: 3 };
  assert.deepEqual(verdict(heartbeat({ backlog: settled })), ['healthy', '']);
  assert.deepEqual(verdict(heartbeat({ backlog: settled, mode: 'once', state: 'stopped' })), ['healthy', '']);
  assert.deepEqual(verdict(heartbeat({ backlog: { ...settled, deadObjects: 1 } })), ['failing', '1 dead objects']);
});
