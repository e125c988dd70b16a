/**
 * A fault-injecting HTTP proxy on 127.0.0.1 in front of an S3 server, for the chaos tests. Each
 * request is forwarded, or (with the configured probabilities) answered with a fault instead:
 *   reset      the connection is destroyed after part of the response body
 *   error500   500 InternalError
 *   slowDown   503 SlowDown with Retry-After: 1
 *   stall      the answer is held back for `stallMs`
 *   slow       the answer's body trickles at `slowBytesPerSecond`
 *   truncate   a listing's XML body is cut in half (malformed)
 * `blackhole(ms)` makes every request hang unanswered for a while (a WAN outage). Loopback only.
 */
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface FaultRates {
  readonly reset?: number;
  readonly error500?: number;
  readonly slowDown?: number;
  readonly stall?: number;
  readonly slow?: number;
  readonly truncate?: number;
}

export interface FaultProxy {
  readonly endpoint: string;
  setRates(rates: FaultRates): void;
  blackhole(ms: number): void;
  readonly injected: Record<keyof FaultRates | 'blackholed', number>;
  /** Requests that met the fault rates (not blackholed), and how many of them were listings (which `truncate` applies to). */
  readonly seen: { readonly requests: number; readonly listings: number };
  close(): Promise<void>;
}

export async function startFaultProxy(
  targetPort: number,
  rates: FaultRates = {},
  options: { stallMs?: number; slowBytesPerSecond?: number; random?: () => number } = {},
): Promise<FaultProxy> {
  let current = rates;
  let blackholeUntil = 0;
  const random = options.random ?? Math.random;
  const injected = { reset: 0, error500: 0, slowDown: 0, stall: 0, slow: 0, truncate: 0, blackholed: 0 };
  const seen = { requests: 0, listings: 0 };
  const slowRate = options.slowBytesPerSecond ?? 1024 * 1024;
  const sockets = new Set<Socket>();

  const s3Error = (response: ServerResponse, status: number, code: string, headers: Record<string, string> = {}) => {
    const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected by the fault proxy</Message></Error>`;
    response.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), ...headers });
    response.end(body);
  };

  const forward = (request: IncomingMessage, response: ServerResponse, fault: 'reset' | 'truncate' | 'slow' | undefined) => {
    const upstream = httpRequest(
      { host: '127.0.0.1', port: targetPort, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        const isListing = /[?&]list-type=2/.test(request.url ?? '');
        if (fault === 'truncate' && isListing) {
          injected.truncate += 1;
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () => {
            const whole = Buffer.concat(chunks);
            const cut = whole.subarray(0, Math.floor(whole.length / 2));
            const headers = { ...answer.headers, 'content-length': String(cut.length) };
            response.writeHead(answer.statusCode ?? 502, headers);
            response.end(cut);
          });
          return;
        }
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        if (fault === 'reset') {
          injected.reset += 1;
          let sent = 0;
          answer.on('data', (c: Buffer) => {
            sent += c.length;
            response.write(c);
            if (sent > 0) {
              answer.destroy();
              response.socket?.destroy();
            }
          });
          answer.on('end', () => response.socket?.destroy());
          return;
        }
        if (fault === 'slow') {
          injected.slow += 1;
          answer.on('data', (c: Buffer) => {
            response.write(c);
            answer.pause();
            setTimeout(() => answer.resume(), Math.ceil((c.length / slowRate) * 1000));
          });
          answer.on('end', () => response.end());
          response.on('close', () => answer.destroy());
          return;
        }
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.socket?.destroy());
    request.pipe(upstream);
  };

  const server = createServer((request, response) => {
    if (Date.now() < blackholeUntil) {
      injected.blackholed += 1;
      request.resume();
      return; // never answered: the client's timeout decides
    }
    seen.requests += 1;
    if (/[?&]list-type=2/.test(request.url ?? '')) seen.listings += 1;
    const r = random();
    let edge = 0;
    const pick = (name: keyof FaultRates) => {
      edge += current[name] ?? 0;
      return r < edge;
    };
    if (pick('error500')) {
      injected.error500 += 1;
      request.resume();
      return s3Error(response, 500, 'InternalError');
    }
    if (pick('slowDown')) {
      injected.slowDown += 1;
      request.resume();
      return s3Error(response, 503, 'SlowDown', { 'retry-after': '1' });
    }
    if (pick('stall')) {
      injected.stall += 1;
      setTimeout(() => forward(request, response, undefined), options.stallMs ?? 1500);
      return;
    }
    if (pick('slow')) return forward(request, response, 'slow');
    if (pick('reset')) return forward(request, response, 'reset');
    if (pick('truncate')) return forward(request, response, 'truncate');
    return forward(request, response, undefined);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    injected,
    seen,
    setRates(next) {
      current = next;
    },
    blackhole(ms) {
      blackholeUntil = Date.now() + ms;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
