import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP hop between a client and a server (the broker, Postgres) that the test can cut and
 * restore: the only way to make a shared server truly unreachable for a while without stopping
 * it. `cut` drops every connection through the hop and refuses new ones until `restore`.
 */
export interface TcpProxy {
  url(target: string): string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function createTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const next = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        port = (next.address() as { port: number }).port;
        server = next;
        resolve();
      });
    });

  const stop = async () => {
    const current = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  };

  await listen();
  return {
    url: (target) => throughLocalPort(target, port),
    cut: stop,
    restore: listen,
    close: stop,
  };
}

/** `target` with its host and port replaced by a hop listening on 127.0.0.1:`port` (path, credentials kept). */
export function throughLocalPort(target: string, port: number): string {
  const parsed = new URL(target);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  return parsed.toString();
}
