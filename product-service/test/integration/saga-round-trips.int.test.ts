import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { createDatabase, createLogger, createPgPool } from '@shop/platform';
import {
  buildOrderStatusUpdated,
  createTestDatabase,
  eventually,
  newOrderId,
  type TestDatabase,
} from '@shop/platform/testing';
import type { Db } from '../../src/db/database';
import { migrationsDir } from '../../src/db/migrations-dir';
import type { DB } from '../../src/generated/database';
import { orderEventHandlers } from '../../src/messaging/order-events.handlers';
import { releaseStock, reserveStock, type SagaCause } from '../../src/use-cases/stock-saga';
import { createProductWithStock, reservationOf, stockOf } from '../support/saga-world';

/**
 * Round trips to Postgres are what a saga step costs (each one is CPU on both sides of the socket
 * and a wait for the answer), so how many a step takes is part of its contract: lock and load
 * (BEGIN, the order's lock, the inbox claim and the step's read, sent together) → one write of
 * everything decided, sent with the COMMIT.
 */
let database: TestDatabase;
let db: Db;
/**
 * Round trips on the pool's connections so far: a query sent while none is waiting for its answer
 * on that connection starts one; queries sent behind it before it is answered travel with it.
 */
let roundTripsSoFar = 0;

beforeAll(async () => {
  database = await createTestDatabase({ migrationsDir: migrationsDir() });
  const pool = createPgPool(database.url, { max: 2 });
  const counted = new WeakSet<PoolClient>();
  pool.on('acquire', (client) => {
    if (counted.has(client)) return;
    counted.add(client);
    let awaitingAnswers = 0;
    const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
    client.query = ((...args: unknown[]) => {
      if (awaitingAnswers === 0) roundTripsSoFar += 1;
      awaitingAnswers += 1;
      const answer = query(...args);
      const answered = () => void (awaitingAnswers -= 1);
      answer.then(answered, answered);
      return answer;
    }) as PoolClient['query'];
  });
  db = createDatabase<DB>(pool);
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

const buildCause = (): SagaCause => ({
  consumer: 'product-service.orders',
  eventId: randomUUID(),
  correlationId: 'corr-round-trips',
  traceparent: null,
});

async function roundTripsOf<T>(step: () => Promise<T>): Promise<{ outcome: T; roundTrips: number }> {
  const before = roundTripsSoFar;
  const outcome = await step();
  return { outcome, roundTrips: roundTripsSoFar - before };
}

const reserve = (orderId: number, productId: number, cause = buildCause()) =>
  reserveStock(db, { orderId, items: [{ product_id: productId, quantity: 2 }] }, cause);

it('reserving an order’s stock takes two round trips: lock and load (the claim, the reservation and the stock), then the products’ lock and one write, with the commit', async () => {
  const product = await createProductWithStock(db, 5);

  const { outcome, roundTrips } = await roundTripsOf(() => reserve(newOrderId(), product));

  expect(outcome).toBe('applied');
  expect(await stockOf(db, product)).toBe(3);
  expect(roundTrips).toBe(2);
});

it('rejecting a reservation for lack of stock takes two round trips too', async () => {
  const product = await createProductWithStock(db, 1);
  const orderId = newOrderId();

  const { outcome, roundTrips } = await roundTripsOf(() => reserve(orderId, product));

  expect(outcome).toBe('applied');
  expect((await reservationOf(db, orderId))?.status).toBe('rejected');
  expect(roundTrips).toBe(2);
});

it('releasing a reserved order’s stock takes two round trips: lock and load, then the products’ lock and one write, with the commit', async () => {
  const product = await createProductWithStock(db, 5);
  const orderId = newOrderId();
  await reserve(orderId, product);

  const { outcome, roundTrips } = await roundTripsOf(() => releaseStock(db, orderId, buildCause()));

  expect(outcome).toBe('applied');
  expect(await stockOf(db, product)).toBe(5);
  expect(roundTrips).toBe(2);
});

it('a cancel that overtakes its create leaves the tombstone in two round trips: lock and load, then one write with the commit', async () => {
  const orderId = newOrderId();

  const { outcome, roundTrips } = await roundTripsOf(() => releaseStock(db, orderId, buildCause()));

  expect(outcome).toBe('applied');
  expect((await reservationOf(db, orderId))?.status).toBe('cancelled_before_create');
  expect(roundTrips).toBe(2);
});

it('a redelivered event is told apart in two round trips: lock and load finds the claim taken, then an empty commit', async () => {
  const product = await createProductWithStock(db, 5);
  const orderId = newOrderId();
  const cause = buildCause();
  await reserve(orderId, product, cause);

  const { outcome, roundTrips } = await roundTripsOf(() => reserve(orderId, product, cause));

  expect(outcome).toBe('duplicate');
  expect(await stockOf(db, product)).toBe(3);
  expect(roundTrips).toBe(2);
});

it('a status change with no effect on stock is recorded in one round trip: the inbox claim alone', async () => {
  const confirmed = buildOrderStatusUpdated({
    order_id: newOrderId(),
    from_status: 'pending',
    to_status: 'confirmed',
  });
  const context = {
    consumer: 'product-service.orders',
    claim: { consumer: 'product-service.orders', eventId: confirmed.id },
    logger: createLogger('test'),
    attempt: 1,
    redelivered: false,
  };

  const { outcome, roundTrips } = await roundTripsOf(() =>
    orderEventHandlers(db).OrderStatusUpdated!(confirmed, context),
  );

  expect(outcome).toBe('ignored');
  expect(roundTrips).toBe(1);
});

it('a reservation that read the last units just before another took them is refused by the database and rejected on its second run', async () => {
  const product = await createProductWithStock(db, 2);
  const orderId = newOrderId();
  // Another writer takes the product's whole stock but has not committed: the reservation reads the
  // committed 2, decides to take 2, and its UPDATE waits for that writer's row lock.
  const rivalPool = createPgPool(database.url, { max: 1 });
  const rival = await rivalPool.connect();
  try {
    await rival.query('BEGIN');
    await rival.query('UPDATE products SET stock = 0 WHERE id = $1', [product]);

    const reserving = roundTripsOf(() => reserve(orderId, product));
    await eventually(async () => {
      const { rows } = await rival.query<{ waiting: number }>(
        `SELECT count(*)::int AS waiting FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'`,
      );
      expect(rows[0]!.waiting).toBe(1);
    });
    await rival.query('COMMIT');
    const { outcome, roundTrips } = await reserving;

    // The re-read row (0 − 2) broke CHECK (stock >= 0): everything rolled back, the inbox claim
    // included, and the second run decided on the stock as it is now.
    expect(outcome).toBe('applied');
    expect((await reservationOf(db, orderId))?.status).toBe('rejected');
    expect(await stockOf(db, product)).toBe(0);
    // Each run: lock and load, then the write with the COMMIT (which, behind the refused write, rolls back).
    expect(roundTrips).toBe(2 + 2);
  } finally {
    rival.release();
    await rivalPool.end();
  }
});
