import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface StubService {
  url: string;
  received: ReceivedRequest[];
  /** How many times /health was asked (it is not in `received`). */
  healthCalls: number;
  /** What /health answers: a status code, or 'hang' to never answer. */
  health: number | 'hang';
  /** When true, every non-health request is left unanswered. */
  hang: boolean;
  close(): Promise<void>;
}

/**
 * A real HTTP server standing in for one service behind the gateway: it records what reached it
 * and answers 200 `{ service, path }` (or its /health), so tests can see what the gateway forwarded.
 * It listens on `port` (0: a free one), so an instance can be stopped and started again where it was.
 */
export async function startStubService(name: string, port = 0): Promise<StubService> {
  const stub: Omit<StubService, 'url' | 'close'> = { received: [], healthCalls: 0, health: 200, hang: false };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/health') {
        stub.healthCalls += 1;
        if (stub.health === 'hang') return;
        res.writeHead(stub.health, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ status: stub.health === 200 ? 'ok' : 'down', service: name, checks: {} }));
      }
      stub.received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      if (stub.hang) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ service: name, path: req.url }));
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return Object.assign(stub, {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** A URL on which nothing listens: a port that was free a moment ago. */
export async function deadServiceUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
