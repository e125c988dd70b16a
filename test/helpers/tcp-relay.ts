/**
 * A TCP relay on 127.0.0.1 between the agent and an S3 server that can slow the upload
 * direction to a byte rate (so a multipart upload takes long enough to be interrupted), close
 * connections for a while (an outage), or stop listening altogether (connections refused) and
 * listen again on the same port. Loopback only.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';

export interface RelayOptions {
  /** Bytes per second from client to server; undefined for full speed. */
  readonly uploadRate?: number;
}

export interface TcpRelay {
  readonly endpoint: string;
  setUploadRate(rate: number | undefined): void;
  /** While down, new connections are closed at once and open ones are destroyed. */
  setDown(down: boolean): void;
  /**
   * Refusing: the port is not listened on (connections are refused) and open connections are
   * destroyed; then it listens on the same port again.
   */
  setRefusing(refusing: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpRelay(targetPort: number, options: RelayOptions = {}): Promise<TcpRelay> {
  let rate = options.uploadRate;
  let down = false;
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    client.setNoDelay(true);
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const cleanup = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', cleanup);
    upstream.on('error', cleanup);
    client.on('close', cleanup);
    upstream.on('close', cleanup);
    upstream.pipe(client);
    // Upload direction, paced: after each chunk, pause for as long as the rate says it took.
    client.on('data', (chunk: Buffer) => {
      const ok = upstream.write(chunk);
      if (rate !== undefined) {
        client.pause();
        setTimeout(() => client.resume(), (chunk.length / rate) * 1000);
      } else if (!ok) {
        client.pause();
        upstream.once('drain', () => client.resume());
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('relay has no port');
  const port = address.port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    setUploadRate(next) {
      rate = next;
    },
    setDown(next) {
      down = next;
      if (down) for (const socket of sockets) socket.destroy();
    },
    async setRefusing(refusing) {
      if (refusing === !server.listening) return;
      if (refusing) {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await closed;
      } else {
        server.listen(port, '127.0.0.1');
        await once(server, 'listening');
      }
    },
    async close() {
      down = true;
      for (const socket of sockets) socket.destroy();
      if (!server.listening) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
