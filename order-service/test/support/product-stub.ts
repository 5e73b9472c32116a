import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Product } from '@shop/contracts';

/**
 * A throwaway product service over real HTTP (port 0) for tests: the one edge the order service
 * may fake is the product HTTP API. It serves `GET /api/v1/products?ids=…` from `products`, and
 * `behaviour` can make it fail, stall, answer garbage, or answer correctly after `SLOW_ANSWER_MS` (`slow`).
 */
export type StubBehaviour = 'ok' | 'fail-500' | 'stall' | 'garbage' | 'slow';

export interface ProductStub {
  url: string;
  products: Map<number, Product>;
  behaviour: StubBehaviour;
  /** Requests received, e.g. to prove there was exactly one batch call. */
  requests: string[];
  /** How long `slow` holds an answer (default `SLOW_ANSWER_MS`). */
  slowMs: number;
  close(): Promise<void>;
}

/** How long the `slow` behaviour holds an answer by default: well inside the order service's 1 s client timeout. */
export const SLOW_ANSWER_MS = 400;

const now = '2025-01-01T00:00:00.000Z';
export const buildProduct = (overrides: Partial<Product> = {}): Product => ({
  id: 1,
  name: 'Wireless Mouse',
  description: null,
  price: '25.99',
  stock: 100,
  created_at: now,
  updated_at: now,
  ...overrides,
});

export const SEED_PRODUCTS: Product[] = [
  buildProduct({ id: 1, name: 'Wireless Mouse', price: '25.99', stock: 100 }),
  buildProduct({ id: 2, name: 'Mechanical Keyboard', price: '153.50', stock: 50 }),
  buildProduct({ id: 3, name: 'USB-C Hub', price: '49.99', stock: 5 }),
];

export async function startProductStub(products: Product[] = SEED_PRODUCTS): Promise<ProductStub> {
  const sockets = new Set<import('node:net').Socket>();
  const stub: Omit<ProductStub, 'url' | 'close'> = {
    products: new Map(products.map((product) => [product.id, product])),
    behaviour: 'ok',
    requests: [],
    slowMs: SLOW_ANSWER_MS,
  };
  const server = http.createServer((req, res) => {
    stub.requests.push(req.url ?? '');
    if (stub.behaviour === 'slow') return void setTimeout(() => answer(req, res), stub.slowMs);
    answer(req, res);
  });
  function answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://stub');
    if (stub.behaviour === 'stall') return; // never answers; the client's timeout must fire
    if (stub.behaviour === 'fail-500') {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"code":"internal_error"}');
      return;
    }
    if (stub.behaviour === 'garbage') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"items": "nope"}');
      return;
    }
    if (req.method !== 'GET' || url.pathname !== '/api/v1/products') {
      res.writeHead(404).end();
      return;
    }
    const ids = (url.searchParams.get('ids') ?? '').split(',').filter(Boolean).map(Number);
    const items = ids
      .map((id) => stub.products.get(id))
      .filter((product): product is Product => Boolean(product));
    const limit = Number(url.searchParams.get('limit') ?? 20);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ items, total: items.length, limit, offset: 0 }));
  }
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(stub, {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  }) as ProductStub;
}

/** A port nothing listens on (bound, then released), for connection-refused cases. */
export async function unusedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
