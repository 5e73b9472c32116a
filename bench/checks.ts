import { QUEUES, deadLetterQueueOf } from '@shop/contracts';
import { connectBroker, queueDepths } from './broker';
import { CorrectnessError } from './correctness';
import { SYNTHETIC_ORDER_BASE } from './phases/consumer-throughput';
import { step } from './progress';
import { INITIAL_STOCK, type BenchSystem } from './system';
import { waitUntil } from './wait';

function expect(condition: boolean, message: string): void {
  if (!condition) throw new CorrectnessError(message);
}

/**
 * Every real order (placed through the gateway) has exactly one reservation, `reserved`, with the
 * order's own items; and the notification service recorded exactly one OrderCreated per order.
 * Waits (up to `timeoutMs`) for the system to catch up first.
 */
export async function checkOrdersConsumedOnce(system: BenchSystem, timeoutMs: number): Promise<number> {
  const { rows: orderRows } = await system.db.orders.query<{
    order_id: number;
    product_id: number;
    quantity: number;
  }>('SELECT order_id, product_id, quantity FROM order_items ORDER BY order_id, product_id');
  const expected = new Map<number, string>();
  for (const row of orderRows)
    expected.set(row.order_id, `${expected.get(row.order_id) ?? ''}${row.product_id}x${row.quantity};`);
  const ids = [...expected.keys()];

  await waitUntil(
    'every order reserved',
    async () =>
      Number(
        (
          await system.db.products.query(
            'SELECT count(*) AS n FROM stock_reservations WHERE order_id = ANY($1)',
            [ids],
          )
        ).rows[0].n,
      ),
    (n) => n === ids.length,
    timeoutMs,
    100,
  ).catch((error: Error) => {
    throw new CorrectnessError(`not every order got its stock reservation: ${error.message}`);
  });
  const { rows: reservations } = await system.db.products.query<{
    order_id: number;
    status: string;
    items: { product_id: number; quantity: number }[];
  }>('SELECT order_id, status, items FROM stock_reservations WHERE order_id = ANY($1)', [ids]);
  for (const reservation of reservations) {
    expect(
      reservation.status === 'reserved',
      `order ${reservation.order_id}: reservation is ${reservation.status}, not reserved`,
    );
    const got = [...reservation.items]
      .sort((a, b) => a.product_id - b.product_id)
      .map((item) => `${item.product_id}x${item.quantity};`)
      .join('');
    expect(
      got === expected.get(reservation.order_id),
      `order ${reservation.order_id}: reserved ${got} but ordered ${expected.get(reservation.order_id)}`,
    );
  }

  await waitUntil(
    'one OrderCreated notification per order',
    async () =>
      Number(
        (
          await system.db.notifications.query(
            `SELECT count(*) AS n FROM notifications WHERE event_type = 'OrderCreated' AND order_id = ANY($1)`,
            [ids],
          )
        ).rows[0].n,
      ),
    (n) => n >= ids.length,
    timeoutMs,
    100,
  ).catch((error: Error) => {
    throw new CorrectnessError(`notifications missing: ${error.message}`);
  });
  const { rows: doubled } = await system.db.notifications.query(
    `SELECT order_id, count(*) AS n FROM notifications WHERE event_type = 'OrderCreated' GROUP BY order_id HAVING count(*) > 1 LIMIT 5`,
  );
  expect(doubled.length === 0, `orders notified more than once: ${JSON.stringify(doubled)}`);
  return ids.length;
}

/** Stock is conserved: for every product, initial stock − what live reservations hold = current stock, never below zero. */
export async function checkStockConserved(system: BenchSystem): Promise<void> {
  const { rows } = await system.db.products.query<{ id: number; stock: number; reserved: string | null }>(`
    SELECT p.id, p.stock,
           (SELECT sum((item->>'quantity')::int) FROM stock_reservations r, jsonb_array_elements(r.items) AS item
             WHERE r.status = 'reserved' AND (item->>'product_id')::int = p.id) AS reserved
      FROM products p ORDER BY p.id`);
  for (const row of rows) {
    const reserved = Number(row.reserved ?? 0);
    expect(row.stock >= 0, `product ${row.id}: stock ${row.stock} is below zero`);
    expect(
      INITIAL_STOCK - reserved === row.stock,
      `product ${row.id}: initial ${INITIAL_STOCK} − reserved ${reserved} ≠ current ${row.stock}`,
    );
  }
}

/** No event is recorded twice by any consumer, and nothing was dead-lettered. */
export async function checkNoDuplicatesNoDeadLetters(system: BenchSystem): Promise<void> {
  const { rows: notified } = await system.db.notifications.query(
    'SELECT event_id, count(*) AS n FROM notifications GROUP BY event_id HAVING count(*) > 1 LIMIT 5',
  );
  expect(notified.length === 0, `events notified more than once: ${JSON.stringify(notified)}`);
  const connection = await connectBroker(system.broker);
  try {
    const dlqs = Object.values(QUEUES).map((queue) => deadLetterQueueOf(queue.name));
    const depths = await queueDepths(connection, dlqs);
    const dead = Object.entries(depths).filter(([, n]) => n > 0);
    expect(dead.length === 0, `messages were dead-lettered: ${JSON.stringify(Object.fromEntries(dead))}`);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/**
 * Every synthetic OrderCreated of a phase-4 run (orders firstOrderId … firstOrderId + count − 1)
 * has exactly one reservation and one inbox row, and the notification service (restarted after
 * the drain) records its StockReserved exactly once.
 */
export async function checkSyntheticOrdersOnce(
  system: BenchSystem,
  count: number,
  timeoutMs: number,
  firstOrderId = SYNTHETIC_ORDER_BASE,
): Promise<void> {
  const range = [firstOrderId, firstOrderId + count];
  const { rows } = await system.db.products.query<{ n: string }>(
    'SELECT count(*) AS n FROM stock_reservations WHERE order_id >= $1 AND order_id < $2 AND status = $3',
    [...range, 'reserved'],
  );
  expect(Number(rows[0].n) === count, `${rows[0].n} of ${count} synthetic orders reserved`);
  const { rows: inbox } = await system.db.products.query<{ n: string }>(
    `SELECT count(*) AS n FROM processed_messages WHERE consumer = $1 AND event_id IN
       (SELECT (payload->>'causationid')::uuid FROM outbox_events
         WHERE type = 'StockReserved' AND aggregate_id::bigint >= $2 AND aggregate_id::bigint < $3)`,
    [QUEUES.productOrders.name, ...range],
  );
  expect(
    Number(inbox[0].n) === count,
    `${inbox[0].n} of ${count} synthetic events in the product service's inbox`,
  );
  const notified = await waitUntil(
    'one StockReserved notification per synthetic order',
    async () =>
      Number(
        (
          await system.db.notifications.query(
            `SELECT count(*) AS n FROM notifications WHERE event_type = 'StockReserved' AND order_id >= $1 AND order_id < $2`,
            range,
          )
        ).rows[0].n,
      ),
    (n) => n >= count,
    timeoutMs,
    200,
  ).catch((error: Error) => {
    throw new CorrectnessError(`StockReserved notifications missing: ${error.message}`);
  });
  expect(notified === count, `${notified} StockReserved notifications for ${count} synthetic orders`);
}

export async function runChecks(label: string, checks: (() => Promise<unknown>)[]): Promise<void> {
  for (const check of checks) await check();
  step(`✓ correctness after ${label}`);
}
