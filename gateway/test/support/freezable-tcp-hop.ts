import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP hop to a server that the test can freeze: connections stay open but the server's answers
 * stop reaching the client, as when a server hangs or a network drops packets without a reset.
 */
export interface FreezableTcpHop {
  url(target: string): string;
  freeze(): void;
  close(): Promise<void>;
}

export async function createFreezableTcpHop(
  targetHost: string,
  targetPort: number,
): Promise<FreezableTcpHop> {
  const sockets = new Set<Socket>();
  let frozen = false;
  const server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.on('data', (answer: Buffer) => {
      if (!frozen) client.write(answer);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: (target) => {
      const parsed = new URL(target);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    freeze: () => {
      frozen = true;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
