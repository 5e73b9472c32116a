import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { percentiles, type Percentiles } from '../stats';

interface OrderCreatedLike {
  id: string;
  correlationid: string;
  data: { order_id: number; items: { product_id: number; quantity: number }[] };
}

const LOCK = 'SELECT id, stock FROM products WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE';
const DECREMENT = `
  UPDATE products p SET stock = p.stock + v.delta, updated_at = now()
    FROM unnest($1::int[], $2::int[]) AS v(id, delta) WHERE p.id = v.id`;
const RESERVE = `INSERT INTO stock_reservations (order_id, status, items) VALUES ($1, 'reserved', $2::jsonb)`;
const OUTBOX = `
  INSERT INTO outbox_events (id, aggregate_type, aggregate_id, sequence, type, exchange, routing_key, payload, headers)
  VALUES ($1::uuid, 'inventory', $2, 0, 'StockReserved', 'inventory', 'stock.reserved', $3::jsonb, '{}'::jsonb)`;

/**
 * Baseline of phase 4: the product service's reservation as raw `pg` transactions, fed from
 * memory instead of a queue — inbox row, lock the products in id order, decrement each, the
 * reservation row and the StockReserved outbox row, one transaction per event — with as many
 * transactions in flight as the consumer's prefetch allows.
 */
export async function runReserveStockBaseline(
  databaseUrl: string,
  bodies: readonly string[],
  concurrency: number,
): Promise<{ eventsPerSecond: number; latency: Percentiles }> {
  const pool = new Pool({ connectionString: databaseUrl, max: concurrency });
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();

  async function worker(): Promise<void> {
    const client = await pool.connect();
    try {
      while (next < bodies.length) {
        const begin = performance.now();
        const event = JSON.parse(bodies[next++]) as OrderCreatedLike;
        const items = [...event.data.items].sort((a, b) => a.product_id - b.product_id);
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock(8001, $1::int)', [event.data.order_id]);
        const inbox = await client.query(
          'INSERT INTO processed_messages (consumer, event_id) VALUES ($1, $2::uuid) ON CONFLICT DO NOTHING',
          ['product-service.orders', event.id],
        );
        const existing = await client.query('SELECT 1 FROM stock_reservations WHERE order_id = $1', [
          event.data.order_id,
        ]);
        if (inbox.rowCount === 1 && existing.rowCount === 0) {
          const { rows } = await client.query<{ id: number; stock: number }>(LOCK, [
            items.map((item) => item.product_id),
          ]);
          const stock = new Map(rows.map((row) => [row.id, row.stock]));
          if (items.some((item) => (stock.get(item.product_id) ?? 0) < item.quantity))
            throw new Error('baseline ran out of stock');
          await client.query(DECREMENT, [
            items.map((item) => item.product_id),
            items.map((item) => -item.quantity),
          ]);
          const reserved = items.map((item) => ({ product_id: item.product_id, quantity: item.quantity }));
          await client.query(RESERVE, [event.data.order_id, JSON.stringify(reserved)]);
          const eventId = randomUUID();
          const envelope = {
            specversion: '1.0',
            id: eventId,
            source: '/product-service',
            type: 'StockReserved',
            time: new Date().toISOString(),
            subject: String(event.data.order_id),
            datacontenttype: 'application/json',
            dataschema: 'urn:shop:events:StockReserved:1',
            correlationid: event.correlationid,
            causationid: event.id,
            sequence: 1,
            traceparent: null,
            data: { order_id: event.data.order_id, items: reserved },
          };
          await client.query(OUTBOX, [eventId, String(event.data.order_id), JSON.stringify(envelope)]);
        }
        await client.query('COMMIT');
        latencies.push(performance.now() - begin);
      }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  try {
    await Promise.all(Array.from({ length: concurrency }, () => worker()));
  } finally {
    await pool.end();
  }
  const seconds = (performance.now() - started) / 1000;
  return { eventsPerSecond: bodies.length / seconds, latency: percentiles(latencies) };
}
