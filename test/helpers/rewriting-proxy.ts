/**
 * A proxy on 127.0.0.1 in front of an S3 server that lets a test change what passes: a request
 * before it is forwarded (its URL, headers, body), or the answer before it is returned (status,
 * headers, body). Bodies are buffered whole, so it is for small test objects only. It plays the
 * servers and links that misbehave: a byte flipped on the way, a range that is not the one asked
 * for, a listing that ignores start-after.
 */
import { once } from 'node:events';
import { createServer, request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';

export interface Exchange {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  /** Send the whole body's Content-Length but only this many bytes, then close the connection. */
  readonly cutAfter?: number;
}

/** What to do with one request: change it before it is forwarded, and/or change its answer. */
export interface Rewrite {
  readonly request?: (request: Exchange) => Exchange;
  readonly answer?: (answer: Answer, request: Exchange) => Answer;
}

export interface RewritingProxy {
  readonly endpoint: string;
  /** Every request seen, in order: `METHOD /path?query`. */
  readonly seen: string[];
  close(): Promise<void>;
}

export async function startRewritingProxy(targetPort: number, rule: (request: Exchange) => Rewrite | undefined): Promise<RewritingProxy> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer(async (incoming, outgoing) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const original: Exchange = {
      method: incoming.method ?? 'GET',
      url: incoming.url ?? '/',
      headers: { ...incoming.headers },
      body: Buffer.concat(chunks),
    };
    seen.push(`${original.method} ${original.url}`);
    const rewrite = rule(original);
    const request = rewrite?.request ? rewrite.request(original) : original;
    const headers = { ...request.headers };
    if (request.body.length > 0 || headers['content-length'] !== undefined) headers['content-length'] = String(request.body.length);
    const upstream = httpRequest(
      { host: '127.0.0.1', port: targetPort, method: request.method, path: request.url, headers },
      async (response) => {
        const parts: Buffer[] = [];
        for await (const chunk of response) parts.push(chunk as Buffer);
        let answer: Answer = { status: response.statusCode ?? 502, headers: { ...response.headers }, body: Buffer.concat(parts) };
        if (rewrite?.answer) answer = rewrite.answer(answer, request);
        const out: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(answer.headers))
          if (value !== undefined && name !== 'transfer-encoding') out[name] = value;
        if (request.method !== 'HEAD') out['content-length'] = String(answer.body.length);
        outgoing.writeHead(answer.status, out);
        if (answer.cutAfter !== undefined) {
          outgoing.write(answer.body.subarray(0, answer.cutAfter), () => outgoing.socket?.destroy());
          return;
        }
        outgoing.end(request.method === 'HEAD' ? undefined : answer.body);
      },
    );
    upstream.on('error', () => outgoing.socket?.destroy());
    upstream.end(request.body);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A copy of `body` with one byte changed at `at` (default: the middle). */
export function flipByte(body: Buffer, at = Math.floor(body.length / 2)): Buffer {
  const copy = Buffer.from(body);
  copy[at] = copy[at]! ^ 0xff;
  return copy;
}
