/**
 * POST /events fuzzed over HTTP against a real agent process (fast-check): well-formed event bodies,
 * wrongly typed fields in otherwise valid records, malformed, truncated and deeply nested JSON,
 * random bytes (invalid UTF-8 too), bodies over events.maxBodySize (with a Content-Length or
 * chunked), any content-type, wrong tokens, methods and paths, broken HTTP framing, pipelined
 * requests, and clients that go away mid-body. Every request gets the answer http-server.ts and
 * docs/metrics.md define, on a connection that stays whole (never a 5xx, never a reset). Afterwards
 * the agent is alive and healthy, logged no crash, counted exactly the records it answered for,
 * still replicates events, stops cleanly, and its journal passes PRAGMA integrity_check and holds
 * nothing of a refused body.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import fc from 'fast-check';

import { EventBodyError, parseS3Events } from '../../src/detect/s3-events.js';
import { killIfRunning, listeningAddress, spawnCli, waitForLog } from '../helpers/cli.js';
import { readJournal } from '../helpers/journal-db.js';
import { getObject, listKeys, putObject, startTestS3 } from '../helpers/local-s3.js';
import { tempDir } from '../helpers/temp-dir.js';
import { writeTestConfig } from '../helpers/test-config.js';

const TOKEN = 'fz-token-7c1e94';
const LIMIT = 64 * 1024;
const ANSWER_TIMEOUT_MS = 15_000;
const OUTCOMES = ['accepted', 'duplicate', 'out_of_scope', 'removed_ignored', 'removed_propagated', 'other_kind'] as const;
type Outcome = (typeof OUTCOMES)[number];
type Tally = Record<Outcome, number>;
const zeroTally = (): Tally => ({ accepted: 0, duplicate: 0, out_of_scope: 0, removed_ignored: 0, removed_propagated: 0, other_kind: 0 });

// Keys are unique per generated body (so every in-scope creation is `accepted`, never a duplicate):
// a counter bumped where fast-check builds the body (shrinking is off: endOnFailure).
let serial = 0;

// ---------------------------------------------------------------------------------------------
// Requests, and the answer the endpoint defines for each (read from http-server.ts)

interface Probe {
  readonly label: string;
  readonly method: string;
  readonly path: string;
  readonly auth: string | undefined;
  readonly contentType: string | undefined;
  readonly body: Buffer;
  /** `length`: Content-Length, `chunked`: Transfer-Encoding: chunked. */
  readonly framing: 'length' | 'chunked';
  /** Where the body is cut into separate writes (each its own chunk when chunked). */
  readonly cuts: readonly number[];
  readonly keepAlive: boolean;
  /** What the generator knows independently of the parser (checked against it too). */
  readonly expect?:
    | { readonly status: 200; readonly tally: Tally; readonly versions: readonly Version[] }
    | { readonly status: 400; readonly error: string };
}

/** An object version a record announces, as the generator wrote it: what the journal must then hold. */
interface Version {
  readonly key: string;
  readonly etag: string;
  readonly size: number;
}

interface Verdict {
  readonly status: number;
  /** Exact text/plain answer, or null when not compared. */
  readonly text?: string | null;
  /** The endpoint's JSON error (400): exact message or a pattern. */
  readonly error?: string | RegExp;
  /** 200 from /events: how many records the tally must add up to. */
  readonly records?: number;
}

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'PURGE', 'M-SEARCH']);

/** Header values lose their surrounding spaces and tabs on the wire (RFC 9110 OWS). */
const presentsToken = (auth: string | undefined) => (auth ?? '').replace(/^[ \t]+|[ \t]+$/g, '') === `Bearer ${TOKEN}`;

function verdict(probe: Probe): Verdict {
  if (!KNOWN_METHODS.has(probe.method)) return { status: 400, text: null }; // Node's parser refuses the request line
  const path = probe.path.split('?')[0];
  if (path === '/events') {
    if (probe.method !== 'POST') return { status: 405, text: 'POST S3 event notifications here\n' };
    if (!presentsToken(probe.auth)) return { status: 401, text: 'a bearer token is required\n' };
    if (probe.body.length > LIMIT) return { status: 413, text: `body larger than ${LIMIT} bytes\n` };
    let value: unknown;
    try {
      value = JSON.parse(probe.body.toString('utf8'));
    } catch {
      return { status: 400, error: /^malformed JSON: \S/ };
    }
    try {
      parseS3Events(value, 'auto', new Date());
    } catch (error) {
      if (!(error instanceof EventBodyError)) throw error;
      return { status: 400, error: error.message };
    }
    return { status: 200, records: (value as { Records: unknown[] }).Records.length };
  }
  if (probe.method !== 'GET' && probe.method !== 'HEAD') return { status: 405, text: 'method not allowed\n' };
  switch (path) {
    case '/healthz':
      return { status: 200, text: 'ok\n' };
    case '/readyz':
      return { status: 200, text: 'ready\n' };
    case '/metrics':
      return { status: 200, text: null };
    case '/status':
      return presentsToken(probe.auth) ? { status: 200, text: null } : { status: 401, text: 'a bearer token is required\n' };
    case undefined:
    default:
      return { status: 404, text: 'not found\n' };
  }
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

function pieces(body: Buffer, cuts: readonly number[]): Buffer[] {
  if (body.length === 0) return [];
  const at = [...new Set(cuts.map((c) => c % body.length))].filter((c) => c > 0).sort((a, b) => a - b);
  return [0, ...at].map((start, i) => body.subarray(start, at[i] ?? body.length));
}

/** One request through Node's HTTP client; rejects on a reset, a hang-up or no answer in time. */
function exchange(port: number, probe: Probe, keepAlive: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: `127.0.0.1:${port}` };
    if (probe.auth !== undefined) headers['authorization'] = probe.auth;
    if (probe.contentType !== undefined) headers['content-type'] = probe.contentType;
    if (probe.framing === 'length') headers['content-length'] = String(probe.body.length);
    else headers['transfer-encoding'] = 'chunked';
    const req = request({
      host: '127.0.0.1',
      port,
      method: probe.method,
      path: probe.path,
      headers,
      agent: probe.keepAlive ? keepAlive : false,
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`));
    }, ANSWER_TIMEOUT_MS);
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8') });
      });
      res.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void (async () => {
      for (const piece of pieces(probe.body, probe.cuts)) {
        if (!req.write(piece)) await once(req, 'drain');
        await tick();
      }
      req.end();
    })().catch(() => undefined); // a failed write surfaces as the request's 'error'
  });
}

/** Counts what the agent said it did with the records, to compare with its metrics at the end. */
const answered = zeroTally();
/** The versions of the records answered `accepted` whose bodies the generator built: the journal must hold exactly these. */
const acceptedVersions: Version[] = [];

/** Answers by kind of request (printed as a diagnostic). */
const seen = new Map<string, Map<number, number>>();
function count(label: string, status: number): void {
  const kind = label.replace(/\d+ deep \(.*\)/, 'deep');
  const statuses = seen.get(kind) ?? new Map<number, number>();
  seen.set(kind, statuses.set(status, (statuses.get(status) ?? 0) + 1));
}

function show(probe: Probe): string {
  const body = probe.body.toString('latin1');
  const excerpt = body.length > 160 ? `${body.slice(0, 120)}…${body.slice(-40)}` : body;
  return `${probe.label}: ${probe.method} ${JSON.stringify(probe.path)} auth=${JSON.stringify(probe.auth)} type=${JSON.stringify(probe.contentType)} ${probe.framing} ${probe.body.length} bytes ${JSON.stringify(excerpt)}`;
}

function checkAnswer(probe: Probe, answer: Answer): void {
  const want = verdict(probe);
  count(probe.label, answer.status);
  const where = `${show(probe)} -> ${answer.status} ${answer.text.slice(0, 300)}`;
  assert.ok(answer.status < 500, `never a 5xx: ${where}`);
  assert.equal(answer.status, want.status, where);
  if (probe.expect !== undefined) assert.equal(want.status, probe.expect.status, `generator and parser disagree: ${where}`);
  const type = answer.headers['content-type'] ?? '';
  if (want.text !== undefined && want.text !== null && probe.method !== 'HEAD') {
    assert.equal(answer.text, want.text, where);
    assert.match(type, /^text\/plain/, where);
  }
  if (want.error !== undefined) {
    assert.match(type, /^application\/json/, `a bad body is answered in JSON: ${where}`);
    const body = JSON.parse(answer.text) as { error?: unknown };
    assert.deepEqual(Object.keys(body), ['error'], where);
    assert.equal(typeof body.error, 'string', where);
    const error = body.error as string;
    assert.ok(error.trim().length > 0, `a non-empty reason: ${where}`);
    if (typeof want.error === 'string') assert.equal(error, want.error, where);
    else assert.match(error, want.error, where);
    if (probe.expect?.status === 400) assert.equal(error, probe.expect.error, where);
  }
  if (want.records !== undefined) {
    assert.match(type, /^application\/json/, where);
    const tally = JSON.parse(answer.text) as Tally;
    assert.deepEqual(Object.keys(tally).sort(), [...OUTCOMES].sort(), where);
    let sum = 0;
    for (const outcome of OUTCOMES) {
      assert.ok(Number.isSafeInteger(tally[outcome]) && tally[outcome] >= 0, where);
      sum += tally[outcome];
      answered[outcome] += tally[outcome];
    }
    assert.equal(sum, want.records, `every record is accounted for: ${where}`);
    if (probe.expect?.status === 200) {
      assert.deepEqual(tally, probe.expect.tally, where);
      acceptedVersions.push(...probe.expect.versions);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Raw sockets: what Node's client will not send (broken framing, garbage, CONNECT, pipelining,
// aborts)

interface RawResult {
  readonly data: string;
  readonly error?: Error;
}

/**
 * Writes `bytes`, half-closes, and reads until the server closes; with `abort`, writes only the
 * first `after` bytes and kills the connection (FIN or RST) without waiting for an answer.
 */
function rawExchange(
  port: number,
  bytes: Buffer,
  abort?: { readonly after: number; readonly how: 'destroy' | 'reset' },
): Promise<RawResult> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    let error: Error | undefined;
    const timer = setTimeout(() => {
      error = new Error(`no close within ${ANSWER_TIMEOUT_MS} ms`);
      socket.destroy();
    }, ANSWER_TIMEOUT_MS);
    socket.on('data', (part: Buffer) => parts.push(part));
    socket.on('error', (e) => {
      error ??= e;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(parts).toString('latin1'), ...(error === undefined ? {} : { error }) });
    });
    socket.once('connect', () => {
      if (abort === undefined) {
        socket.end(bytes);
        return;
      }
      socket.write(bytes.subarray(0, abort.after), () => {
        if (abort.how === 'reset') socket.resetAndDestroy();
        else socket.destroy();
      });
    });
  });
}

/** Splits pipelined HTTP/1.1 answers (each with a Content-Length, as the agent sends them). */
function splitAnswers(data: string, methods: readonly string[]): { status: number; close: boolean; text: string }[] {
  const out: { status: number; close: boolean; text: string }[] = [];
  let rest = data;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    assert.ok(end > 0, `a whole answer head in ${JSON.stringify(rest.slice(0, 200))}`);
    const head = rest.slice(0, end);
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
    const length = methods[out.length] === 'HEAD' ? 0 : Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? NaN);
    assert.ok(Number.isInteger(length), `a Content-Length in ${head}`);
    out.push({ status, close: /\r\nconnection: close/i.test(head), text: rest.slice(end + 4, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

function rawRequest(method: string, path: string, body: Buffer | string, headers: Record<string, string> = {}): Buffer {
  const data = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const lines = [
    `${method} ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    `Content-Length: ${data.length}`,
  ];
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), data]);
}

const authed = { Authorization: `Bearer ${TOKEN}` };

/** Framing Node's parser refuses with a 400 (and closes) before the agent sees a request. */
const BROKEN_FRAMING: readonly string[] = [
  `POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
  `POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`,
  `POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: -1\r\n\r\n{}`,
  `POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 1e3\r\n\r\n{}`,
  `POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
  `POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n{}\r\n0\r\n\r\n`,
  `POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nTransfer-Encoding: gzip, chunked, identity\r\n\r\n0\r\n\r\n`,
  `post /events HTTP/1.1\r\nHost: x\r\n\r\n`,
  `POST /events HTTP/9.9\r\nHost: x\r\n\r\n`,
  `POST /events HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n`,
  `POST /events HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n`,
  `POST /events HTTP/1.1\r\nHost: x\r\nX: a\u0000b\r\n\r\n`,
  `POST /events HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}`, // HTTP/1.1 without Host
  `POST /ev ents HTTP/1.1\r\nHost: x\r\n\r\n`,
  `\u0000\u0001\u0002 / HTTP/1.1\r\n\r\n`,
];

// ---------------------------------------------------------------------------------------------
// Event records

type Source = 'aws:s3' | 'minio:s3' | 'ceph:s3';
const CREATED = [
  'ObjectCreated:Put',
  's3:ObjectCreated:Put',
  'ObjectCreated:Copy',
  'ObjectCreated:CompleteMultipartUpload',
  's3:ObjectCreated:Post',
];
const REMOVED = ['ObjectRemoved:Delete', 's3:ObjectRemoved:DeleteMarkerCreated'];
const OTHER = [
  'ObjectRestore:Completed',
  's3:ObjectRestore:Post',
  's3:Replication:OperationFailedReplication',
  'LifecycleTransition',
  'ObjectCreated',
  's3:ObjectTagging:Put',
  '',
];

interface RecordSpec {
  readonly source: Source;
  readonly kind: 'created' | 'removed' | 'other';
  readonly name: string;
  readonly inScope: boolean;
  readonly keySuffix: string;
  readonly size: number;
  readonly sizeAsString: boolean;
  readonly etag: string;
  readonly etagField: 'eTag' | 'etag';
  readonly quoteEtag: boolean;
  readonly eventTime: string | undefined;
  readonly versionId: string | undefined;
  readonly extra: unknown;
}

/** Keys as a sender encodes them: URL-encoded (form style) for AWS and MinIO, raw for Ceph. */
const encodeKey = (key: string, source: Source) => (source === 'ceph:s3' ? key : encodeURIComponent(key).replace(/%20/g, '+'));

const keySuffixArb = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom(
    'a b+c.txt',
    '../../etc/passwd',
    'a//b',
    '%',
    '%2F',
    '\u0000',
    'x'.repeat(1100),
    'dir/',
    '.',
    '..',
    '\\',
    '\u2028',
    '😀/ü',
  ),
);

const recordSpecArb: fc.Arbitrary<RecordSpec> = fc
  .record({
    source: fc.constantFrom<Source>('aws:s3', 'minio:s3', 'ceph:s3'),
    kindName: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...CREATED).map((name) => ({ kind: 'created' as const, name })) },
      { weight: 2, arbitrary: fc.constantFrom(...REMOVED).map((name) => ({ kind: 'removed' as const, name })) },
      { weight: 2, arbitrary: fc.constantFrom(...OTHER).map((name) => ({ kind: 'other' as const, name })) },
    ),
    inScope: fc.boolean(),
    keySuffix: keySuffixArb,
    size: fc.oneof(fc.nat(), fc.constantFrom(0, 1, 5 * 1024 ** 3, Number.MAX_SAFE_INTEGER)),
    sizeAsString: fc.boolean(),
    etag: fc.oneof(
      fc.stringMatching(/^[0-9a-f]{32}$/),
      fc.stringMatching(/^[0-9a-f]{32}-[1-9]\d{0,3}$/),
      fc.string({ minLength: 1, maxLength: 8 }).filter((s) => s.replace(/^"+|"+$/g, '') !== ''),
    ),
    etagField: fc.constantFrom<'eTag' | 'etag'>('eTag', 'eTag', 'etag'),
    quoteEtag: fc.boolean(),
    eventTime: fc.option(
      fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.constantFrom('yesterday', '', '2026-13-45T99:00:00Z'),
      ),
      { nil: undefined },
    ),
    versionId: fc.option(fc.oneof(fc.string({ maxLength: 12 }), fc.constant('null')), { nil: undefined }),
    extra: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
  })
  .map(({ kindName, ...rest }) => ({ ...rest, ...kindName }));

/** The JSON of a record (keys under `prefix`), what the agent must say it did with it, and the version it announces. */
function buildRecord(spec: RecordSpec, prefix: string): { record: Record<string, unknown>; outcome: Outcome; version: Version } {
  const object: Record<string, unknown> = { key: encodeKey(`${prefix}${spec.keySuffix}`, spec.source), sequencer: '0055AED6DCD90281E5' };
  if (spec.kind === 'created') {
    object['size'] = spec.sizeAsString ? String(spec.size) : spec.size;
    object[spec.etagField] = spec.quoteEtag ? `"${spec.etag}"` : spec.etag;
  }
  if (spec.versionId !== undefined) object['versionId'] = spec.versionId;
  const record: Record<string, unknown> = {
    eventVersion: '2.1',
    eventSource: spec.source,
    eventName: spec.name,
    userIdentity: { principalId: 'fuzz' },
    s3: { s3SchemaVersion: '1.0', bucket: { name: spec.inScope ? 'edge' : 'other', arn: 'arn:aws:s3:::x' }, object },
    ...(spec.eventTime === undefined ? {} : { eventTime: spec.eventTime }),
    ...(spec.extra === undefined ? {} : { unknownField: spec.extra }),
  };
  const outcome: Outcome =
    spec.kind === 'other' ? 'other_kind' : !spec.inScope ? 'out_of_scope' : spec.kind === 'created' ? 'accepted' : 'removed_ignored';
  // S3 event ETags come quoted or not; the quotes around one are not part of it.
  const etag = (spec.quoteEtag ? `"${spec.etag}"` : spec.etag).replace(/^"+|"+$/g, '');
  return { record, outcome, version: { key: `${prefix}${spec.keySuffix}`, etag, size: spec.size } };
}

function buildBody(
  specs: readonly RecordSpec[],
  prefix: string,
): { records: Record<string, unknown>[]; tally: Tally; versions: Version[] } {
  const tally = zeroTally();
  const versions: Version[] = [];
  const n = (serial += 1);
  const records = specs.map((spec, i) => {
    const built = buildRecord(spec, `${prefix}/${n}/${i}/`);
    tally[built.outcome] += 1;
    if (built.outcome === 'accepted') versions.push(built.version);
    return built.record;
  });
  return { records, tally, versions };
}

// Wrong values for fields the parser must refuse, and the message naming the field.
const notAString = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constant([]),
  fc.array(fc.string(), { minLength: 1, maxLength: 2 }),
  fc.constant({}),
  fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }),
);
const notAnObject = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.string(),
  fc.constant([]),
  fc.array(fc.integer(), { maxLength: 2 }),
);
const notASize = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.constant([]),
  fc.constant({}),
  fc.integer({ max: -1 }),
  fc.double({ noDefaultInfinity: false }).filter((d) => !Number.isSafeInteger(d) || d < 0),
  fc.constantFrom(2 ** 53, 1e300, -0.5, 1.5),
  fc.constantFrom('', ' ', '-1', '1.5', '1e3', '0x10', '+7', ' 7', '7 ', 'abc', 'NaN', 'Infinity', '9007199254740993', '١٢'),
);
const badEtag = fc.oneof(notAString, fc.constantFrom('', '"', '""', '"""'));

interface Mutation {
  readonly error: string;
  readonly apply: (record: Record<string, unknown>) => unknown;
}
const s3Of = (r: Record<string, unknown>) => r['s3'] as Record<string, unknown>;
const objectOf = (r: Record<string, unknown>) => s3Of(r)['object'] as Record<string, unknown>;

function mutationArb(spec: RecordSpec, at: string): fc.Arbitrary<Mutation> {
  const bucketName = `${at}.s3.bucket.name: expected a bucket name`;
  const key = `${at}.s3.object.key: expected a key`;
  const options: fc.Arbitrary<Mutation>[] = [
    notAnObject.map((v) => ({ error: `${at}: expected an object`, apply: () => v })),
    fc
      .oneof(notAString, fc.constant(undefined))
      .map((v) => ({ error: `${at}.eventName: expected a string`, apply: (r) => ({ ...r, eventName: v }) })),
  ];
  if (spec.kind !== 'other') {
    options.push(
      fc.oneof(notAnObject, fc.constant(undefined)).map((v) => ({ error: bucketName, apply: (r) => ({ ...r, s3: v }) })),
      notAnObject.map((v) => ({ error: bucketName, apply: (r) => ({ ...r, s3: { ...s3Of(r), bucket: v } }) })),
      fc
        .oneof(notAString, fc.constant(''))
        .map((v) => ({ error: bucketName, apply: (r) => ({ ...r, s3: { ...s3Of(r), bucket: { name: v } } }) })),
      notAnObject.map((v) => ({ error: key, apply: (r) => ({ ...r, s3: { ...s3Of(r), object: v } }) })),
      fc
        .oneof(notAString, fc.constant(''))
        .map((v) => ({ error: key, apply: (r) => ({ ...r, s3: { ...s3Of(r), object: { ...objectOf(r), key: v } } }) })),
    );
    if (spec.source !== 'ceph:s3') {
      options.push(
        fc.constantFrom('%', 'a%zz', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '%FF').map((v) => ({
          error: `${at}.s3.object.key: not valid URL encoding`,
          apply: (r) => ({ ...r, s3: { ...s3Of(r), object: { ...objectOf(r), key: v } } }),
        })),
      );
    }
    // JSON can spell a lone surrogate ("\ud800"); no S3 key holds one (raw, or left as is by URL decoding).
    options.push(
      fc.constantFrom('\ud800', 'a\udc00', 'x/\udbff\ud7ff', '\udfff\ud800').map((v) => ({
        error: `${at}.s3.object.key: not valid Unicode (a lone surrogate)`,
        apply: (r) => ({ ...r, s3: { ...s3Of(r), object: { ...objectOf(r), key: `${String(objectOf(r)['key'])}${v}` } } }),
      })),
    );
  }
  if (spec.kind === 'created') {
    const withoutEtag = (r: Record<string, unknown>) => {
      const { eTag: _e, etag: _f, ...object } = objectOf(r);
      return object;
    };
    options.push(
      fc.tuple(badEtag, fc.constantFrom('eTag', 'etag')).map(([v, field]) => ({
        error: `${at}.s3.object.eTag: expected the object's ETag`,
        apply: (r) => ({ ...r, s3: { ...s3Of(r), object: { ...withoutEtag(r), [field]: v } } }),
      })),
      fc.constant({
        error: `${at}.s3.object.eTag: expected the object's ETag`,
        apply: (r: Record<string, unknown>) => ({ ...r, s3: { ...s3Of(r), object: withoutEtag(r) } }),
      }),
      notASize.map((v) => ({
        error: `${at}.s3.object.size: expected a size in bytes`,
        apply: (r) => ({ ...r, s3: { ...s3Of(r), object: { ...objectOf(r), size: v } } }),
      })),
    );
  }
  return fc.oneof(...options);
}

/** Fields the parser reads only when they are right: wrong types there change nothing. */
const toleratedChangeArb: fc.Arbitrary<(r: Record<string, unknown>, spec: RecordSpec) => Record<string, unknown>> = fc.oneof(
  fc.oneof(notAString, fc.string()).map((v) => (r: Record<string, unknown>) => ({ ...r, eventTime: v })),
  notAString.map((v) => (r: Record<string, unknown>) => ({ ...r, s3: { ...s3Of(r), object: { ...objectOf(r), versionId: v } } })),
  fc
    .oneof(notAString, fc.constantFrom('aws:s3', 'minio:s3', 'sqs', ''))
    .map((v) => (r: Record<string, unknown>, spec: RecordSpec) => (spec.source === 'ceph:s3' ? r : { ...r, eventSource: v })),
  // A wrong eTag with a right etag: etag is read (an eTag string, even '', would be read instead).
  notAString.map(
    (v) => (r: Record<string, unknown>, spec: RecordSpec) =>
      spec.kind === 'created' && spec.etagField === 'etag' ? { ...r, s3: { ...s3Of(r), object: { ...objectOf(r), eTag: v } } } : r,
  ),
  fc.jsonValue({ maxDepth: 4 }).map((v) => (r: Record<string, unknown>) => ({ ...r, responseElements: v, s3: { ...s3Of(r), extra: v } })),
);

// ---------------------------------------------------------------------------------------------
// Probes

/** A body, and what the agent must answer to it when it reaches the parser (if the generator knows). */
type ProbeShape = Pick<Probe, 'label' | 'body'> & { readonly expect?: Probe['expect'] };

// The agent does not look at Content-Type (senders differ): any or none gets the same answer.
const contentTypeArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      undefined,
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=latin1',
      'application/xml',
      '',
      'x/y/z;;;',
    ),
  },
);
const authArb = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom(`Bearer ${TOKEN}`, `Bearer ${TOKEN}`, ` Bearer ${TOKEN}`, `Bearer ${TOKEN}\t`) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      undefined,
      '',
      'Bearer',
      'Bearer ',
      `bearer ${TOKEN}`,
      `BEARER ${TOKEN}`,
      `Bearer  ${TOKEN}`,
      TOKEN,
      `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`,
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Bearer ${TOKEN} extra`,
      `Token ${TOKEN}`,
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .string({ unit: 'binary-ascii', maxLength: 40 })
      .filter((s) => /^[\x20-\x7e]*$/.test(s))
      .map((s) => `Bearer ${s}`),
  },
);
const pathArb = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom('/events', '/events', '/events?x=1', '/events?', '/events?token=x&&') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '/events/',
      '/Events',
      '/EVENTS',
      '//events',
      '/events/../events',
      '/%65vents',
      '/events%00',
      '/events;a=b',
      '/events#f',
      '/',
      '/nope',
      '/healthz',
      '/healthz?x',
      '/readyz',
      '/metrics',
      '/status',
      '/status/',
      '*',
      'http://127.0.0.1/events',
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .string({ unit: 'binary-ascii', maxLength: 30 })
      .filter((s) => /^[\x21-\x7e]*$/.test(s))
      .map((s) => `/${s}`),
  },
);
const methodArb = fc.oneof(
  { weight: 30, arbitrary: fc.constant('POST') },
  { weight: 3, arbitrary: fc.constantFrom('GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'PURGE', 'M-SEARCH') },
  { weight: 1, arbitrary: fc.constantFrom('FOO', 'BREW', 'X-EVENTS') },
);

const wellFormedArb: fc.Arbitrary<ProbeShape> = fc
  .tuple(
    fc.array(recordSpecArb, { maxLength: 6 }),
    fc.option(
      fc.dictionary(
        fc.string({ maxLength: 8 }).filter((k) => k !== 'Records'),
        fc.jsonValue({ maxDepth: 2 }),
        { maxKeys: 2 },
      ),
      { nil: undefined },
    ),
  )
  .map(([specs, top]) => {
    const { records, tally, versions } = buildBody(specs, 'ok');
    return {
      label: 'well-formed',
      body: Buffer.from(JSON.stringify({ ...(top ?? {}), Records: records })),
      expect: { status: 200 as const, tally, versions },
    };
  });

const wronglyTypedArb: fc.Arbitrary<ProbeShape> = fc
  .tuple(fc.array(recordSpecArb, { minLength: 1, maxLength: 4 }), fc.nat())
  .chain(([specs, pick]) => {
    const i = pick % specs.length;
    return mutationArb(specs[i]!, `Records[${i}]`).map((mutation) => {
      // Refused bodies use keys under refused/: the journal must hold none of them afterwards.
      const { records } = buildBody(specs, 'refused');
      records[i] = mutation.apply(records[i]!) as Record<string, unknown>;
      return {
        label: 'wrongly typed',
        body: Buffer.from(JSON.stringify({ Records: records })),
        expect: { status: 400 as const, error: mutation.error },
      };
    });
  });

const toleratedArb: fc.Arbitrary<ProbeShape> = fc
  .tuple(fc.array(recordSpecArb, { minLength: 1, maxLength: 4 }), fc.array(toleratedChangeArb, { minLength: 1, maxLength: 3 }))
  .map(([specs, changes]) => {
    const { records, tally, versions } = buildBody(specs, 'tolerated');
    const changed = records.map((r, i) => changes.reduce((acc, change) => change(acc, specs[i]!), r));
    return {
      label: 'tolerated wrong types',
      body: Buffer.from(JSON.stringify({ Records: changed })),
      expect: { status: 200 as const, tally, versions },
    };
  });

const topLevelArb: fc.Arbitrary<ProbeShape> = fc
  .oneof(
    fc
      .jsonValue({ maxDepth: 3 })
      .filter((v) => typeof v !== 'object' || v === null || Array.isArray(v) || !Array.isArray((v as Record<string, unknown>)['Records'])),
    fc
      .oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.string(), fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }))
      .map((v) => ({ Records: v })),
    fc.constant({ records: [] }),
  )
  .map((value) => ({
    label: 'no Records list',
    body: Buffer.from(JSON.stringify(value)),
    expect: { status: 400 as const, error: 'expected a JSON object with a "Records" list' },
  }));

const anyJsonArb: fc.Arbitrary<ProbeShape> = fc
  .oneof(
    fc.jsonValue(),
    fc.record({ Records: fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 4 }) }),
    fc.record({ Records: fc.array(fc.object({ maxDepth: 3 }), { maxLength: 3 }) }),
  )
  .map((value) => ({ label: 'any JSON', body: Buffer.from(JSON.stringify(value) ?? 'null') }));

const malformedArb: fc.Arbitrary<ProbeShape> = fc.oneof(
  // A valid body cut short, or with one byte inserted, replaced or removed.
  fc
    .tuple(
      fc.array(recordSpecArb, { minLength: 1, maxLength: 3 }),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom('truncate', 'insert', 'replace', 'delete'),
    )
    .map(([specs, at, byte, how]) => {
      const valid = Buffer.from(JSON.stringify({ Records: buildBody(specs, 'mangled').records }));
      const i = at % valid.length;
      const body =
        how === 'truncate'
          ? valid.subarray(0, i)
          : how === 'insert'
            ? Buffer.concat([valid.subarray(0, i), Buffer.from([byte]), valid.subarray(i)])
            : how === 'replace'
              ? Buffer.concat([valid.subarray(0, i), Buffer.from([byte]), valid.subarray(i + 1)])
              : Buffer.concat([valid.subarray(0, i), valid.subarray(i + 1)]);
      return { label: `malformed JSON (${how})`, body };
    }),
  fc
    .constantFrom(
      "{'Records': []}",
      '{"Records": [],}',
      '{"Records": [1,]}',
      '{"Records": [] /* c */}',
      '{"Records": NaN}',
      '\ufeff{"Records": []}',
      '{"Records": []}}',
      '{"Records": [}',
      '{"Records": "\u0001"}',
      'undefined',
      '',
      ' ',
      '{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"edge"},"object":{"key":"a\nb","size":1,"eTag":"e"}}}]}',
    )
    .map((text) => ({ label: 'malformed JSON (classic)', body: Buffer.from(text) })),
);

// Bytes that are not UTF-8 (lone continuation bytes, overlong forms, encoded surrogates, 0xFF),
// alone or inside a key string of an otherwise valid record (they decode to U+FFFD there).
const invalidUtf8 = fc.constantFrom(
  [0x80],
  [0xbf],
  [0xc0, 0xaf],
  [0xc3, 0x28],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xfe],
  [0xff],
  [0xf0, 0x9f, 0x98],
);
const randomBytesArb: fc.Arbitrary<ProbeShape> = fc.oneof(
  fc.uint8Array({ maxLength: 4096 }).map((bytes) => ({ label: 'random bytes', body: Buffer.from(bytes) })),
  fc
    .array(
      fc.oneof(
        invalidUtf8,
        fc.array(
          fc.integer({ min: 0x20, max: 0x7e }).filter((b) => b !== 0x22 && b !== 0x5c),
          { maxLength: 4 },
        ),
      ),
      { minLength: 1, maxLength: 8 },
    )
    .map((runs) => {
      const head = `{"Records":[{"eventSource":"ceph:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"edge"},"object":{"size":3,"eTag":"e1","key":"utf8/${(serial += 1)}/`;
      return { label: 'invalid UTF-8 in a key', body: Buffer.concat([Buffer.from(head), Buffer.from(runs.flat()), Buffer.from('"}}}]}')]) };
    }),
);

const deepArb: fc.Arbitrary<ProbeShape> = fc
  .tuple(
    fc.constantFrom(1_000, 10_000, 30_000, 32_000, 60_000, 100_000, 200_000),
    fc.constantFrom('open', 'closed', 'in Records', 'objects', 'unknown field', 'as the key'),
  )
  .map(([depth, shape]) => {
    const nest = (inner: string) => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
    const record = (field: string) =>
      `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"other"},"object":{"key":"deep/${(serial += 1)}","size":1,"eTag":"e",${field}}}}]}`;
    const text =
      shape === 'open'
        ? '['.repeat(depth)
        : shape === 'closed'
          ? nest('')
          : shape === 'in Records'
            ? `{"Records":${nest('')}}`
            : shape === 'objects'
              ? `${'{"a":'.repeat(depth)}0${'}'.repeat(depth)}`
              : shape === 'unknown field'
                ? record(`"deep":${nest('1')}`)
                : record(`"key":${nest('"k"')}`);
    return { label: `nested ${depth} deep (${shape})`, body: Buffer.from(text) };
  });

const randomBlock = Buffer.from(Array.from({ length: 4093 }, (_, i) => (i * 131 + 7) % 256));
const oversizedArb: fc.Arbitrary<ProbeShape> = fc
  .tuple(
    fc.oneof(fc.constantFrom(LIMIT + 1, LIMIT + 2), fc.integer({ min: LIMIT + 1, max: 4 * 1024 * 1024 })),
    fc.constantFrom('valid JSON padded', 'spaces', 'random'),
  )
  .map(([size, fill]) => {
    const head = Buffer.from('{"Records":[],"pad":"');
    const body =
      fill === 'spaces'
        ? Buffer.alloc(size, 0x20)
        : fill === 'random'
          ? Buffer.alloc(size, randomBlock)
          : Buffer.concat([head, Buffer.alloc(size - head.length - 2, 0x78), Buffer.from('"}')]);
    return { label: `oversized ${fill}`, body };
  });

// The boundary: exactly the limit is read and answered; one byte more is 413.
const boundaryArb: fc.Arbitrary<ProbeShape> = fc.constantFrom(0, 1).map((over) => {
  const json = '{"Records":[]}';
  return { label: `limit ${over === 0 ? 'exactly' : '+1'}`, body: Buffer.from(json + ' '.repeat(LIMIT - json.length + over)) };
});

const bodyArb: fc.Arbitrary<ProbeShape> = fc.oneof(
  { weight: 5, arbitrary: wellFormedArb },
  { weight: 5, arbitrary: wronglyTypedArb },
  { weight: 2, arbitrary: toleratedArb },
  { weight: 1, arbitrary: topLevelArb },
  { weight: 2, arbitrary: anyJsonArb },
  { weight: 3, arbitrary: malformedArb },
  { weight: 2, arbitrary: randomBytesArb },
  { weight: 1, arbitrary: deepArb },
  { weight: 1, arbitrary: oversizedArb },
  { weight: 1, arbitrary: boundaryArb },
);

const probeArb: fc.Arbitrary<Probe> = fc
  .record({
    shape: bodyArb,
    method: methodArb,
    path: pathArb,
    auth: authArb,
    contentType: contentTypeArb,
    framing: fc.constantFrom<'length' | 'chunked'>('length', 'length', 'chunked'),
    cuts: fc.array(fc.nat(), { maxLength: 6 }),
    keepAlive: fc.boolean(),
  })
  .map(({ shape, method, path, auth, contentType, framing, cuts, keepAlive }) => {
    // Unknown methods are refused by Node's parser at the request line: no body after them.
    const body = KNOWN_METHODS.has(method) ? shape.body : Buffer.alloc(0);
    const probe: Probe = { label: shape.label, method, path, auth, contentType, body, framing, cuts, keepAlive };
    // The generator's own expectation holds only where the body reaches the parser.
    return shape.expect !== undefined && method === 'POST' && path.split('?')[0] === '/events' && presentsToken(auth)
      ? { ...probe, expect: shape.expect }
      : probe;
  });

// Raw-socket probes.
type RawProbe =
  | { readonly kind: 'abort'; readonly label: string; readonly bytes: Buffer; readonly after: number; readonly how: 'destroy' | 'reset' }
  | { readonly kind: 'framing'; readonly label: string; readonly bytes: Buffer; readonly status: RegExp }
  /** Answers in order; the agent closes the connection after the last one when `closes`. */
  | {
      readonly kind: 'pipeline';
      readonly label: string;
      readonly bytes: Buffer;
      readonly methods: readonly string[];
      readonly statuses: readonly number[];
      readonly closes: boolean;
    };

const pipelineStepArb = fc.constantFrom(
  { method: 'GET', bytes: rawRequest('GET', '/healthz', ''), status: 200 },
  { method: 'HEAD', bytes: rawRequest('HEAD', '/healthz', ''), status: 200 },
  { method: 'POST', bytes: rawRequest('POST', '/events', '{"Records":[]}', authed), status: 200 },
  { method: 'POST', bytes: rawRequest('POST', '/events', '{"Records":[]}', { Authorization: 'Bearer nope' }), status: 401 },
  { method: 'POST', bytes: rawRequest('POST', '/events', Buffer.alloc(200_000, 0x20), { Authorization: 'Bearer nope' }), status: 401 },
  { method: 'PUT', bytes: rawRequest('PUT', '/events', Buffer.alloc(100_000, 0x7b), authed), status: 405 },
  { method: 'POST', bytes: rawRequest('POST', '/events', '{"Records":[', authed), status: 400 },
  { method: 'POST', bytes: rawRequest('POST', '/events', '{"Records":[{"eventName":5}]}', authed), status: 400 },
  { method: 'POST', bytes: rawRequest('POST', '/events', Buffer.alloc(LIMIT + 10, 0x20), authed), status: 413 },
  { method: 'POST', bytes: rawRequest('POST', '/nope', Buffer.alloc(50_000, 0x20)), status: 405 },
  { method: 'GET', bytes: rawRequest('GET', '/nope', ''), status: 404 },
);

const rawProbeArb: fc.Arbitrary<RawProbe> = fc.oneof(
  fc
    .tuple(
      fc.oneof(
        fc.integer({ min: 1, max: 3 * LIMIT }).map((n) => rawRequest('POST', '/events', Buffer.alloc(n, 0x20), authed)),
        fc
          .integer({ min: 1, max: 3 * LIMIT })
          .map((n) => rawRequest('POST', '/events', Buffer.alloc(n, 0x20), { Authorization: 'Bearer nope' })),
        fc
          .integer({ min: 1, max: 20 })
          .map((n) =>
            Buffer.from(
              `POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n${'400\r\n'.concat(' '.repeat(0x400), '\r\n').repeat(n)}0\r\n\r\n`,
            ),
          ),
      ),
      fc.double({ min: 0, max: 0.999, noNaN: true }),
      fc.constantFrom<'destroy' | 'reset'>('destroy', 'reset'),
    )
    // Cut before the end (a client that goes away mid-head or mid-body), killed with FIN or RST.
    .map(([bytes, fraction, how]) => ({
      kind: 'abort' as const,
      label: `client aborts (${how})`,
      bytes,
      after: Math.max(1, Math.floor(bytes.length * fraction)),
      how,
    })),
  fc
    .constantFrom(...BROKEN_FRAMING)
    .map((text) => ({ kind: 'framing' as const, label: 'broken framing', bytes: Buffer.from(text, 'latin1'), status: /^HTTP\/1\.1 400 / })),
  fc.tuple(fc.integer({ min: 0x21, max: 0x7e }), fc.uint8Array({ maxLength: 2000 })).map(([first, rest]) => ({
    kind: 'framing' as const,
    label: 'garbage request',
    bytes: Buffer.concat([Buffer.from([first]), Buffer.from(rest), Buffer.from('\r\n\r\n')]),
    status: /^HTTP\/1\.1 4\d\d /,
  })),
  fc
    .constantFrom('CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n', 'CONNECT /events HTTP/1.1\r\nHost: x\r\n\r\n')
    .map((text) => ({
      kind: 'pipeline' as const,
      label: 'CONNECT',
      bytes: Buffer.from(text),
      methods: ['CONNECT'],
      statuses: [405],
      closes: true,
    })),
  fc.array(pipelineStepArb, { minLength: 2, maxLength: 5 }).map((all) => {
    // The agent closes the connection after a 413, so nothing is sent after one.
    const upTo = all.findIndex((s) => s.status === 413);
    const steps = upTo === -1 ? all : all.slice(0, upTo + 1);
    return {
      kind: 'pipeline' as const,
      label: 'pipelined',
      bytes: Buffer.concat(steps.map((s) => s.bytes)),
      methods: steps.map((s) => s.method),
      statuses: steps.map((s) => s.status),
      closes: upTo !== -1,
    };
  }),
);

let aborts = 0;

async function runRaw(port: number, probe: RawProbe): Promise<void> {
  if (probe.kind === 'abort') {
    aborts += 1;
    await rawExchange(port, probe.bytes, { after: probe.after, how: probe.how });
    return;
  }
  const result = await rawExchange(port, probe.bytes);
  const where = `${probe.label}: ${JSON.stringify(probe.bytes.toString('latin1').slice(0, 120))} -> ${JSON.stringify(result.data.slice(0, 300))} ${result.error?.message ?? ''}`;
  assert.equal(result.error, undefined, `the connection was not reset: ${where}`);
  if (probe.kind === 'framing') {
    assert.match(result.data, probe.status, where);
    return;
  }
  const answers = splitAnswers(result.data, probe.methods);
  assert.deepEqual(
    answers.map((a) => a.status),
    probe.statuses,
    where,
  );
  for (const [i, a] of answers.entries()) {
    assert.equal(a.close, probe.closes && i === answers.length - 1, `which answer closes the connection: ${where}`);
    if (probe.methods[i] === 'POST' && a.status === 200) assert.deepEqual(JSON.parse(a.text), zeroTally(), where);
    if (a.status === 400) assert.ok((JSON.parse(a.text) as { error: string }).error.length > 0, where);
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Runs the property without shrinking (each run is real HTTP), failing with the seed to replay
 * (FUZZ_SEED=<seed>) and the first failure's own message rather than a dump of the inputs.
 */
async function fuzz<T>(arb: fc.Arbitrary<T>, numRuns: number, run: (value: T) => Promise<void>): Promise<void> {
  const seed = process.env['FUZZ_SEED'];
  const details = await fc.check(fc.asyncProperty(arb, run), {
    numRuns,
    endOnFailure: true,
    ...(seed === undefined ? {} : { seed: Number(seed) }),
  });
  if (!details.failed) return;
  const error = details.errorInstance;
  assert.fail(
    `fuzzing failed (FUZZ_SEED=${details.seed}, run ${details.numRuns}): ${error instanceof Error ? error.message : String(error)}`,
  );
}

const md5 = (data: string) => createHash('md5').update(data).digest('hex');

function metricValue(text: string, outcome: Outcome): number {
  const line = text.split('\n').find((l) => l.startsWith(`tributary_events_total{outcome="${outcome}"} `));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

test('POST /events fuzzed over HTTP: a clear answer to every request, and the agent keeps replicating', async (t) => {
  const started = Date.now();
  const dir = tempDir(t);
  const edge = await startTestS3(t, dir, 'edge', ['edge', 'other']);
  const core = await startTestS3(t, dir, 'core', ['lake']);
  const config = writeTestConfig(dir, edge, core, {
    buckets: ['edge'],
    extra: { scan: { interval: '1h' }, http: { token: TOKEN }, events: { maxBodySize: '64KiB' } },
  });
  const agent = spawnCli(['agent', '-c', config, '--log-level', 'info']);
  t.after(() => killIfRunning(agent));
  const address = await listeningAddress(agent);
  const base = `http://${address}`;
  const port = Number(address.split(':').at(-1));
  await waitForLog(agent, 'scan complete');
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 8 });
  t.after(() => keepAlive.destroy());

  // Batches of requests sent at once (keep-alive and not), then raw-socket ones.
  let requests = 0;
  await fuzz(fc.array(probeArb, { minLength: 1, maxLength: 4 }), 1000, async (probes) => {
    const answers = await Promise.all(
      probes.map((probe) =>
        exchange(port, probe, keepAlive).then(
          (answer) => ({ probe, answer }),
          (error: unknown) => assert.fail(`connection failed (${(error as Error).message}): ${show(probe)}`),
        ),
      ),
    );
    requests += answers.length;
    for (const { probe, answer } of answers) checkAnswer(probe, answer);
  });
  await fuzz(fc.array(rawProbeArb, { minLength: 1, maxLength: 3 }), 300, async (probes) => {
    await Promise.all(probes.map((probe) => runRaw(port, probe)));
    requests += probes.length;
  });
  t.diagnostic(`${requests} requests (${aborts} aborted by the client) in ${Date.now() - started} ms`);
  for (const [kind, statuses] of [...seen.entries()].sort())
    t.diagnostic(
      `${kind}: ${[...statuses.entries()]
        .sort()
        .map(([status, n]) => `${n}× ${status}`)
        .join(', ')}`,
    );

  // Still alive and healthy, and no crash in its log.
  assert.equal(agent.child.exitCode, null, agent.stderr());
  const health = await fetch(`${base}/healthz`);
  assert.equal(health.status, 200);
  assert.equal(await health.text(), 'ok\n');
  assert.equal((await fetch(`${base}/readyz`)).status, 200);
  const log = agent.stderr();
  // Stack frames, on their own lines or inside a JSON log line.
  assert.doesNotMatch(log, /unhandled|uncaught|(\n|\\n)\s+at \S|Maximum call stack|"level":60/i, 'no crash in the log');
  // Clients that go away are logged at debug; an error line would be the agent's own failure.
  const failures = log.split('\n').filter((l) => l.includes('"msg":"http request failed"'));
  assert.deepEqual(failures, [], "no request failed on the agent's side");

  // The agent counted exactly the records it answered for.
  const metrics = await (await fetch(`${base}/metrics`)).text();
  for (const outcome of OUTCOMES)
    assert.equal(metricValue(metrics, outcome), answered[outcome], `tributary_events_total{outcome="${outcome}"}`);
  assert.ok(answered.accepted > 0 && answered.out_of_scope > 0 && answered.other_kind > 0, JSON.stringify(answered));

  // Valid events sent afterwards are still accepted, and the objects land in the core.
  const objects = { 'after/a b+c.txt': 'after fuzz 1', 'after/ü/x.json': '{"after":2}', 'after/raw key+.txt': 'after fuzz 3' };
  for (const [key, body] of Object.entries(objects)) await putObject(edge, 'edge', key, body);
  const records = Object.entries(objects).map(([key, body], i) => ({
    eventVersion: '2.1',
    eventSource: i === 2 ? 'ceph:s3' : 'aws:s3',
    eventTime: new Date().toISOString(),
    eventName: 'ObjectCreated:Put',
    s3: {
      bucket: { name: 'edge' },
      object: { key: i === 2 ? key : encodeKey(key, 'aws:s3'), size: i === 2 ? String(body.length) : body.length, eTag: md5(body) },
    },
  }));
  const after = await fetch(`${base}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ Records: records }),
  });
  assert.equal(after.status, 200);
  assert.deepEqual(await after.json(), { ...zeroTally(), accepted: 3 });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const landed = await listKeys(core, 'lake', 'site-a/edge/after/');
    if (landed.length === 3) break;
    assert.ok(Date.now() < deadline, `only ${landed.length} of 3 landed`);
    await sleep(100);
  }
  for (const [key, body] of Object.entries(objects)) assert.equal((await getObject(core, 'lake', `site-a/edge/${key}`)).toString(), body);

  agent.child.kill('SIGTERM');
  const result = await agent.done;
  assert.equal(result.code, 0, result.stderr.slice(-4000));

  // The journal is intact and holds nothing of a refused body.
  readJournal(join(dir, 'journal'), (db) => {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    assert.deepEqual(db.pragma('foreign_key_check'), []);
    assert.equal((db.prepare(`SELECT count(*) AS n FROM objects WHERE key LIKE 'refused/%'`).get() as { n: number }).n, 0);
    const done = db.prepare(`SELECT key, state FROM objects WHERE key LIKE 'after/%' ORDER BY key`).all() as {
      key: string;
      state: string;
    }[];
    assert.deepEqual(
      done,
      Object.keys(objects)
        .sort()
        .map((key) => ({ key, state: 'done' })),
    );
    // Every record answered `accepted` is one journaled version; nothing else was journaled.
    const fuzzed = (db.prepare(`SELECT count(*) AS n FROM objects WHERE substr(key, 1, 6) <> 'after/'`).get() as { n: number }).n;
    assert.equal(fuzzed, answered.accepted);
    // And those of the bodies the generator built are exactly the versions it announced: key
    // (decoded as its sender encoded it), ETag and size. (The others are the invalid-UTF-8 keys.)
    const byKey = (a: Version, b: Version) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    const journaled = (
      db
        .prepare(`SELECT key, etag, size FROM objects WHERE substr(key, 1, 3) = 'ok/' OR substr(key, 1, 10) = 'tolerated/'`)
        .all() as Version[]
    ).map(({ key, etag, size }) => ({ key, etag, size }));
    assert.ok(acceptedVersions.length > 0, 'the generator sent accepted records');
    assert.deepEqual(journaled.sort(byKey), [...acceptedVersions].sort(byKey));
    const states = db
      .prepare(`SELECT state, last_error_code AS code, count(*) AS n FROM objects WHERE substr(key, 1, 6) <> 'after/' GROUP BY 1, 2`)
      .all();
    t.diagnostic(`fuzzed objects in the journal: ${JSON.stringify(states)}`);
  });
  t.diagnostic(`done in ${Date.now() - started} ms; answered ${JSON.stringify(answered)}`);
});
