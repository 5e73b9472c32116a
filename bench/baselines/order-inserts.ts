import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { randomOrder, randomUser } from '../order-mix';
import { percentiles, type Percentiles } from '../stats';
import type { BenchProduct } from '../system';

const INSERT_ORDER = `INSERT INTO orders (user_id, status, total_amount) VALUES ($1, 'pending', $2::numeric) RETURNING id, created_at`;
const INSERT_OUTBOX = `
  INSERT INTO outbox_events (id, aggregate_type, aggregate_id, sequence, type, exchange, routing_key, payload, headers)
  VALUES ($1::uuid, 'order', $2, 0, 'OrderCreated', 'orders', 'order.created', $3::jsonb, '{}'::jsonb)`;

/**
 * Baseline of phase 1: what placing an order costs the database and nothing else — one
 * transaction of order row + item rows (one multi-row INSERT) + OrderCreated outbox row with the
 * same envelope shape, on the order service's own schema (a scratch database), by `concurrency`
 * clients each running transactions back to back for `seconds`.
 */
export async function runOrderInsertBaseline(
  databaseUrl: string,
  products: readonly BenchProduct[],
  concurrency: number,
  seconds: number,
): Promise<{ ordersPerSecond: number; latency: Percentiles }> {
  const pool = new Pool({ connectionString: databaseUrl, max: concurrency });
  const priceCents = new Map(
    products.map((product) => [product.id, Math.round(Number(product.price) * 100)]),
  );
  const names = new Map(products.map((product) => [product.id, product.name]));
  const latencies: number[] = [];
  const deadline = Date.now() + seconds * 1000;
  const started = process.hrtime.bigint();

  async function worker(): Promise<void> {
    const client = await pool.connect();
    try {
      while (Date.now() < deadline) {
        const begin = process.hrtime.bigint();
        const userId = randomUser();
        const lines = randomOrder(products).map((line) => {
          const cents = priceCents.get(line.product_id)!;
          return {
            ...line,
            name: names.get(line.product_id)!,
            price: cents / 100,
            subtotal: (cents * line.quantity) / 100,
          };
        });
        const total = lines.reduce((sum, line) => sum + line.subtotal, 0).toFixed(2);
        await client.query('BEGIN');
        const { rows } = await client.query<{ id: number; created_at: Date }>(INSERT_ORDER, [userId, total]);
        const order = rows[0];
        const values = lines.map(
          (_, index) =>
            `($1, $${index * 5 + 2}, $${index * 5 + 3}, $${index * 5 + 4}::numeric, $${index * 5 + 5}, $${index * 5 + 6}::numeric)`,
        );
        await client.query(
          `INSERT INTO order_items (order_id, product_id, product_name, product_price, quantity, subtotal) VALUES ${values.join(', ')}`,
          [
            order.id,
            ...lines.flatMap((line) => [
              line.product_id,
              line.name,
              line.price.toFixed(2),
              line.quantity,
              line.subtotal.toFixed(2),
            ]),
          ],
        );
        const eventId = randomUUID();
        const envelope = {
          specversion: '1.0',
          id: eventId,
          source: '/order-service',
          type: 'OrderCreated',
          time: new Date().toISOString(),
          subject: String(order.id),
          datacontenttype: 'application/json',
          dataschema: 'urn:shop:events:OrderCreated:1',
          correlationid: randomUUID(),
          causationid: null,
          sequence: 0,
          traceparent: null,
          data: {
            order_id: order.id,
            user_id: userId,
            status: 'pending',
            total_amount: total,
            items: lines.map((line) => ({
              product_id: line.product_id,
              product_name: line.name,
              product_price: line.price.toFixed(2),
              quantity: line.quantity,
              subtotal: line.subtotal.toFixed(2),
            })),
            created_at: order.created_at.toISOString(),
          },
        };
        await client.query(INSERT_OUTBOX, [eventId, String(order.id), JSON.stringify(envelope)]);
        await client.query('COMMIT');
        latencies.push(Number(process.hrtime.bigint() - begin) / 1e6);
      }
    } finally {
      client.release();
    }
  }

  try {
    await Promise.all(Array.from({ length: concurrency }, () => worker()));
  } finally {
    await pool.end();
  }
  const elapsedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { ordersPerSecond: latencies.length / elapsedSeconds, latency: percentiles(latencies) };
}
