import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { StockLine } from '../../../product-service/src/domain/reserve-stock';
import { mismatch, randomLines, seededRandom } from './experiment';

/** One OrderCreated delivery as the inventory consumer hands it to the reservation. */
export interface StockInput {
  eventId: string;
  orderId: number;
  items: StockLine[];
  correlationId: string;
}

export const CONSUMER = 'product-service.orders';
const PRODUCTS = 100;
const PLENTY = 1_000_000;
/** Product 1 has no stock: every order that asks for it is rejected (the decision's other branch). */
const SOLD_OUT = 1;
/** Every DUPLICATE_EVERY-th delivery repeats one from a few deliveries earlier (a redelivery). */
const DUPLICATE_EVERY = 10;

export function stockInputs(count: number): StockInput[] {
  const random = seededRandom(20261201);
  const inputs: StockInput[] = [];
  for (let index = 0; index < count; index++) {
    if (index % DUPLICATE_EVERY === DUPLICATE_EVERY - 1) {
      inputs.push(inputs[index - 5]!);
      continue;
    }
    inputs.push({
      eventId: randomUUID(),
      orderId: index + 1,
      items: randomLines(random, PRODUCTS),
      correlationId: randomUUID(),
    });
  }
  return inputs;
}

export async function seedProducts(pool: Pool): Promise<void> {
  await pool.query(
    `INSERT INTO products (id, name, price, stock)
     SELECT i, 'Product ' || i, 10, CASE WHEN i = $2 THEN 0 ELSE $3 END FROM generate_series(1, $1::int) AS i`,
    [PRODUCTS, SOLD_OUT, PLENTY],
  );
}

/**
 * Every distinct delivery was recorded once in the inbox and decided once: reserved (its stock
 * taken, a StockReserved row) unless it asked for the sold-out product (rejected, a
 * StockReservationFailed row, no stock taken); redeliveries changed nothing; every product's stock
 * is exactly what the reserved orders left.
 */
export async function checkStock(pool: Pool, inputs: readonly StockInput[]): Promise<string[]> {
  const unique = [...new Map(inputs.map((input) => [input.eventId, input])).values()];
  const rejected = new Set(
    unique.filter((input) => input.items.some((item) => item.product_id === SOLD_OUT)),
  );
  const stock = new Map(
    Array.from({ length: PRODUCTS }, (_, index) => [index + 1, index + 1 === SOLD_OUT ? 0 : PLENTY]),
  );
  for (const input of unique) {
    if (rejected.has(input)) continue;
    for (const item of input.items) stock.set(item.product_id, stock.get(item.product_id)! - item.quantity);
  }
  const { rows } = await pool.query<Record<string, string>>(`
    SELECT (SELECT count(*) FROM processed_messages) AS inbox,
           (SELECT count(*) FROM stock_reservations WHERE status = 'reserved') AS reserved,
           (SELECT count(*) FROM stock_reservations WHERE status = 'rejected') AS rejected,
           (SELECT count(*) FROM stock_reservations) AS reservations,
           (SELECT count(*) FROM outbox_events WHERE type = 'StockReserved') AS reserved_events,
           (SELECT count(*) FROM outbox_events WHERE type = 'StockReservationFailed') AS failed_events,
           (SELECT count(*) FROM outbox_events) AS events`);
  const found = rows[0]!;
  const products = await pool.query<{ id: number; stock: number }>(
    'SELECT id, stock FROM products ORDER BY id',
  );
  const wrongStock = products.rows.filter((row) => stock.get(row.id) !== row.stock).map((row) => row.id);
  return [
    ...mismatch('inbox rows', unique.length, found.inbox),
    ...mismatch('reservations', unique.length, found.reservations),
    ...mismatch('reserved', unique.length - rejected.size, found.reserved),
    ...mismatch('rejected', rejected.size, found.rejected),
    ...mismatch('StockReserved rows', unique.length - rejected.size, found.reserved_events),
    ...mismatch('StockReservationFailed rows', rejected.size, found.failed_events),
    ...mismatch('outbox rows', unique.length, found.events),
    ...mismatch('products with the wrong stock', '', wrongStock.join(', ')),
  ];
}
