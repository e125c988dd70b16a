/**
 * The agent's HTTP listener (binds 127.0.0.1 unless `http.listen` says otherwise):
 *   /healthz  200 while the process runs (no token)
 *   /readyz   200 when the journal is open and the core reachable, else 503 with the reason
 *   /metrics  Prometheus text (no token, as scrapers expect)
 *   /status   the JSON of `tributary status --json`
 *   /events   POST: S3 event notifications; 2xx only once the records are in the journal
 * With `http.token` set, /status and /events need `Authorization: Bearer <token>`, compared in
 * constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

import { TributaryError } from '../core/errors.js';
import type { ListenAddress } from '../core/listen-address.js';
import type { Logger } from '../observability/logger.js';
import type { AgentMetrics } from '../observability/metrics.js';
import type { StatusReport } from '../report/status-report.js';

export interface AgentHttpOptions {
  readonly listen: ListenAddress;
  readonly token?: string | undefined;
  readonly metrics: AgentMetrics;
  readonly status: () => StatusReport;
  readonly ready: () => { readonly ok: boolean; readonly reason?: string };
  /** POST /events: given the parsed JSON body, answers with a status and a JSON body. */
  readonly events?: {
    readonly maxBodyBytes: number;
    handle(body: unknown): { readonly status: number; readonly body: unknown };
  };
  readonly log: Logger;
}

export interface AgentHttpServer {
  /** `host:port` actually bound (the port is chosen by the system when 0 was asked for). */
  readonly address: string;
  close(): Promise<void>;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Constant-time check of `Authorization: Bearer <token>`. */
export function hasToken(request: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const header = request.headers.authorization ?? '';
  const presented = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
  return timingSafeEqual(digest(presented), digest(token));
}

/**
 * Bytes of a refused request read and dropped before answering (so that the sender reads the
 * answer rather than a reset); a body declared or found longer (for a 413 on /events: 4 × the
 * body limit, if that is larger) is answered at once and its connection closed, so nobody can
 * keep the agent reading.
 */
const DISCARD_CAP = 16 * 1024 * 1024;

/** A refused body longer than we are willing to read: answered at once, then the connection closed. */
class BodyCut extends Error {
  constructor(
    readonly status: number,
    readonly answer: string,
  ) {
    super(`request body over the discard limit: answered ${status} and closed`);
  }
}

/**
 * Reads and drops the rest of a request, up to `cap` bytes in all. A body declared or found
 * longer than that is not read: BodyCut, and the caller answers `status` and closes.
 */
async function discard(request: IncomingMessage, alreadyRead: number, cap: number, status: number, answer: string): Promise<void> {
  if (Number(request.headers['content-length'] ?? 0) > cap) throw new BodyCut(status, answer);
  let size = alreadyRead;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > cap) throw new BodyCut(status, answer);
  }
}

/**
 * The request body, or undefined when it exceeds `limit` bytes. Past the limit the rest is read
 * and dropped (memory stays bounded by `limit`) before anyone answers: a socket closed while the
 * sender is still writing is reset, and the sender sees that instead of the 413.
 */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  const tooLarge = () => discard(request, size, Math.max(4 * limit, DISCARD_CAP), 413, `body larger than ${limit} bytes\n`);
  if (Number(request.headers['content-length'] ?? 0) > limit) {
    await tooLarge();
    return undefined;
  }
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      await tooLarge();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Answers a refused request once its body (if any) has been read and dropped (see readBody). */
async function refuse(request: IncomingMessage, response: ServerResponse, status: number, body: string): Promise<void> {
  await discard(request, 0, DISCARD_CAP, status, body);
  send(response, status, body);
}

function send(response: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  response.end(body);
}

export async function startAgentHttp(options: AgentHttpOptions): Promise<AgentHttpServer> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    void (async () => {
      if (path === '/events' && options.events !== undefined) {
        if (request.method !== 'POST') return refuse(request, response, 405, 'POST S3 event notifications here\n');
        if (!hasToken(request, options.token)) return refuse(request, response, 401, 'a bearer token is required\n');
        const limit = options.events.maxBodyBytes;
        const raw = await readBody(request, limit);
        if (raw === undefined) {
          response.setHeader('connection', 'close');
          return send(response, 413, `body larger than ${limit} bytes\n`);
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw.toString('utf8'));
        } catch (error) {
          return send(response, 400, `${JSON.stringify({ error: `malformed JSON: ${(error as Error).message}` })}\n`, 'application/json');
        }
        const answer = options.events.handle(parsed);
        return send(response, answer.status, `${JSON.stringify(answer.body)}\n`, 'application/json');
      }
      // Nothing below reads a body: dropped before answering (see readBody).
      await discard(request, 0, DISCARD_CAP, 413, 'request body not accepted here\n');
      if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'method not allowed\n');
      switch (path) {
        case '/healthz':
          return send(response, 200, 'ok\n');
        case '/readyz': {
          const ready = options.ready();
          return send(response, ready.ok ? 200 : 503, ready.ok ? 'ready\n' : `not ready: ${ready.reason ?? 'unknown'}\n`);
        }
        case '/metrics':
          return send(response, 200, await options.metrics.registry.metrics(), options.metrics.registry.contentType);
        case '/status':
          if (!hasToken(request, options.token)) return send(response, 401, 'a bearer token is required\n');
          return send(response, 200, `${JSON.stringify(options.status(), null, 2)}\n`, 'application/json');
        case undefined:
        default:
          return send(response, 404, 'not found\n');
      }
    })().catch((error: unknown) => {
      if (error instanceof BodyCut) {
        options.log.debug({ path, status: error.status }, 'http request body too long to read: answered and closed');
        if (response.headersSent) return void response.destroy();
        response.setHeader('connection', 'close');
        return send(response, error.status, error.answer);
      }
      // A client that went away mid-request is its own business; anything else is ours.
      const code = (error as { code?: unknown } | null | undefined)?.code;
      const message = error instanceof Error ? error.message : String(error);
      if (!request.complete || code === 'ECONNRESET' || message === 'aborted') {
        options.log.debug({ err: message, path }, 'http request ended by the client');
      } else {
        options.log.error({ err: message, path }, 'http request failed');
      }
      if (!response.headersSent) send(response, 500, 'internal error\n');
      else response.destroy();
    });
  });
  // CONNECT asks for a tunnel, which is not served: a 405 rather than Node's silent close.
  server.on('connect', (_request: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    const body = 'method not allowed\n';
    // Destroyed once written: a client that never closes its side must not hold the socket (and
    // the agent's shutdown) open; the server no longer tracks a socket it handed over.
    socket.end(
      `HTTP/1.1 405 Method Not Allowed\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
      () => socket.destroy(),
    );
  });
  server.listen(options.listen.port, options.listen.host);
  try {
    await once(server, 'listening');
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    throw new TributaryError(
      'TRIB_ERR_CONFIG_INVALID',
      `http.listen: cannot listen on ${options.listen.host}:${options.listen.port}${code === 'EADDRINUSE' ? ' (the port is in use)' : ''}: ${(error as Error).message}`,
      { cause: error, field: 'http.listen' },
    );
  }
  const bound = server.address() as AddressInfo;
  const address = `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
  options.log.info({ address }, 'http listening');
  return {
    address,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
