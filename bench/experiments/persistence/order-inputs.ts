import { createHash } from 'node:crypto';
import type { Order } from '@shop/contracts';
import Decimal from 'decimal.js';
import type { Pool } from 'pg';
import { priceOrder, type PricedOrder } from '../../../order-service/src/domain/pricing';
import { newOrder } from '../../../order-service/src/use-cases/place-order';
import { mismatch, randomLines, seededRandom } from './experiment';

/** One POST /orders after validation and pricing: what reaches the persistence path. */
export interface OrderInput {
  userId: number;
  idempotencyKey: string;
  requestHash: string;
  priced: PricedOrder;
  correlationId: string;
}

const PRODUCTS = 100;
const USERS = 200;

/**
 * Orders of 1–3 lines from a fixed catalogue, each with its own Idempotency-Key (every claim is
 * new: the replay path is not what is compared). Priced before the run — pricing is the same pure
 * function for every variant and not part of the persistence path.
 */
export function orderInputs(count: number): OrderInput[] {
  const random = seededRandom(20261130);
  const price = (id: number) => (5 + ((id * 7919) % 9000) / 100).toFixed(2);
  return Array.from({ length: count }, (_, index) => {
    const lines = randomLines(random, PRODUCTS);
    const key = `bench-${index}`;
    return {
      userId: 1 + Math.floor(random() * USERS),
      idempotencyKey: key,
      requestHash: createHash('sha256').update(JSON.stringify(lines)).digest('hex'),
      priced: priceOrder(
        lines.map((line) => ({
          productId: line.product_id,
          productName: `Product ${line.product_id}`,
          unitPrice: price(line.product_id),
          quantity: line.quantity,
        })),
      ),
      correlationId: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    };
  });
}

/** The contract's Order from the priced order and the ids and time the database gave it: the service's own builder. */
export function contractOrder(
  input: OrderInput,
  stored: { id: number; itemIds: readonly number[]; createdAt: Date },
): Order {
  return newOrder(input.userId, input.priced, { ...stored, itemIds: [...stored.itemIds] });
}

/**
 * Every input became exactly one order with its items, one OrderCreated outbox row about that
 * order, and a completed Idempotency-Key claim whose stored response is that order; totals add up.
 */
export async function checkOrders(pool: Pool, inputs: readonly OrderInput[]): Promise<string[]> {
  const { rows } = await pool.query<Record<string, string>>(`
    SELECT (SELECT count(*) FROM orders) AS orders,
           (SELECT count(*) FROM order_items) AS items,
           (SELECT count(*) FROM outbox_events) AS events,
           (SELECT count(*) FROM outbox_events e JOIN orders o
               ON e.type = 'OrderCreated' AND e.aggregate_id = o.id::text
              AND (e.payload->'data'->>'order_id')::int = o.id
              AND (e.payload->'data'->>'total_amount')::numeric = o.total_amount) AS matching_events,
           (SELECT count(*) FROM idempotency_keys k JOIN orders o ON o.id = k.order_id
             WHERE k.status = 'done' AND (k.response_body->>'id')::int = o.id AND k.user_id = o.user_id) AS done_claims,
           (SELECT count(*) FROM orders o
             WHERE o.total_amount <> (SELECT sum(subtotal) FROM order_items i WHERE i.order_id = o.id)) AS unbalanced,
           (SELECT coalesce(sum(total_amount), 0)::text FROM orders) AS total`);
  const found = rows[0]!;
  const total = inputs.reduce((sum, input) => sum.plus(input.priced.totalAmount), new Decimal(0)).toFixed(2);
  const items = inputs.reduce((sum, input) => sum + input.priced.lines.length, 0);
  return [
    ...mismatch('orders', inputs.length, found.orders),
    ...mismatch('order items', items, found.items),
    ...mismatch('outbox rows', inputs.length, found.events),
    ...mismatch('OrderCreated rows matching their order', inputs.length, found.matching_events),
    ...mismatch('completed Idempotency-Key claims', inputs.length, found.done_claims),
    ...mismatch('orders whose total is not the sum of their items', 0, found.unbalanced),
    ...mismatch('sum of totals', total, found.total),
  ];
}
