/**
 * The heartbeat's endpoint health: each side with since when, why and the error, and no endpoint
 * address in it (whoever may read the core bucket reads it).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { buildHeartbeat, withoutEndpoints } from '../../../src/report/heartbeat.js';

test('endpoint addresses are kept out of error details', () => {
  const endpoints = ['http://127.0.0.1:9000', 'https://minio.factory-7.example:9443/'];
  assert.equal(
    withoutEndpoints('edge LIST edge/: edge endpoint unreachable (ECONNREFUSED): connect ECONNREFUSED 127.0.0.1:9000', endpoints),
    'edge LIST edge/: edge endpoint unreachable (ECONNREFUSED): connect ECONNREFUSED <endpoint>',
  );
  assert.equal(
    withoutEndpoints('edge LIST edge/: https://minio.factory-7.example:9443 is not an S3 endpoint: it answered HTTP 404', endpoints),
    'edge LIST edge/: <endpoint> is not an S3 endpoint: it answered HTTP 404',
  );
  assert.equal(withoutEndpoints('getaddrinfo ENOTFOUND minio.factory-7.example', endpoints), 'getaddrinfo ENOTFOUND <endpoint>');
  // Addresses it was not told about: a resolved IP, another URL.
  assert.equal(
    withoutEndpoints('connect ECONNREFUSED 10.1.2.3:9000 via http://proxy.local:3128/x', endpoints),
    'connect ECONNREFUSED <endpoint> via <endpoint>',
  );
  assert.equal(
    withoutEndpoints('the edge rejected the credentials (InvalidAccessKeyId)', endpoints),
    'the edge rejected the credentials (InvalidAccessKeyId)',
  );
});

test("the heartbeat carries both endpoints' health next to `reachable`, the outages, vanished and forgotten objects and re-landings", () => {
  const now = Date.parse('2026-11-27T12:10:00Z');
  const beat = buildHeartbeat({
    site: 'store-1',
    agentVersion: '0.1.0',
    startedAt: now - 3_600_000,
    now,
    state: 'running',
    mode: 'agent',
    intervalMs: 30_000,
    backlog: { pendingObjects: 0, pendingBytes: 0, failedObjects: 0, deadObjects: 0, vanishedObjects: 2, forgottenObjects: 1 },
    relandings: { repair: 3, 'core-copy-missing': 1 },
    oldestPendingSince: undefined,
    recent: { windowSeconds: 300, objects: 0, bytes: 0, lagP50Seconds: null, lagP99Seconds: null },
    endpoints: {
      edge: {
        reachable: false,
        since: now - 60_000,
        reason: 'refused',
        detail: 'connect ECONNREFUSED 127.0.0.1:9000',
        checkedAt: now - 2000,
      },
      core: { reachable: true, since: now - 3_600_000, reason: undefined, detail: undefined, checkedAt: now - 1000 },
    },
    endpointUrls: ['http://127.0.0.1:9000'],
    outage: { side: 'edge', startedAt: now - 60_000 },
    lastOutage: undefined,
    journalFreeBytes: null,
  });
  assert.deepEqual(beat.reachable, { edge: false, core: true });
  assert.deepEqual(beat.endpoints, {
    edge: {
      reachable: false,
      since: '2026-11-27T12:09:00.000Z',
      reason: 'refused',
      detail: 'connect ECONNREFUSED <endpoint>',
      checkedAt: '2026-11-27T12:09:58.000Z',
    },
    core: { reachable: true, since: '2026-11-27T11:10:00.000Z', reason: null, detail: null, checkedAt: '2026-11-27T12:09:59.000Z' },
  });
  assert.deepEqual(beat.outage, { side: 'edge', since: '2026-11-27T12:09:00.000Z', seconds: 60 });
  // Vanished and forgotten objects, and the re-landings, as fields of their own (added, never renamed).
  assert.deepEqual(beat.backlog, {
    pendingObjects: 0,
    pendingBytes: 0,
    failedObjects: 0,
    deadObjects: 0,
    vanishedObjects: 2,
    forgottenObjects: 1,
  });
  assert.deepEqual(beat.relandings, { repair: 3, 'core-copy-missing': 1 });
});
