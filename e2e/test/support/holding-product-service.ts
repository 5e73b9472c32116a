import express from 'express';
import type { Product, ProductList } from '@shop/contracts';
import { listen, portOf } from '@shop/platform';

export interface HoldingProductService {
  url: string;
  /** Batch calls received so far; the first is being held unanswered. */
  calls(): number;
  close(): Promise<void>;
}

/**
 * A product service whose FIRST batch call is never answered, so the order request that made it is
 * surely in flight (past its Idempotency-Key claim) for as long as the test needs; every later call
 * is answered from `products`. The held call ends only when its caller goes away or `close()` runs.
 */
export async function startHoldingProductService(products: Product[]): Promise<HoldingProductService> {
  let calls = 0;
  const app = express();
  app.get('/api/v1/products', (req, res) => {
    if (calls++ === 0) return;
    const ids = String(req.query.ids ?? '')
      .split(',')
      .map(Number);
    const items = products.filter((product) => ids.includes(product.id));
    const list: ProductList = { items, total: items.length, limit: Math.max(items.length, 1), offset: 0 };
    res.json(list);
  });
  const server = await listen(app, 0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${portOf(server)}`,
    calls: () => calls,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
