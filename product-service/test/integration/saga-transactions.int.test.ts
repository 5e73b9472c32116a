import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createTestDatabase, newOrderId, type TestDatabase } from '@shop/platform/testing';
import { migrationsDir } from '../../src/db/migrations-dir';
import { createPool, type Pool } from '../../src/db/pool';
import { createPrismaClient, type Db } from '../../src/db/prisma';
import { releaseStock } from '../../src/use-cases/release-stock';
import { reserveStock } from '../../src/use-cases/reserve-stock';
import type { SagaCause } from '../../src/use-cases/saga-cause';
import { createProductWithStock, stockOf } from '../support/saga-world';

/** The saga's use cases against the database alone: what commits together, and what a failure leaves behind. */
let database: TestDatabase;
let db: Db;
/** What the saga's use cases run on (the service's pg pool); `db` is for looking at the result. */
let pool: Pool;
beforeAll(async () => {
  database = await createTestDatabase({ migrationsDir: migrationsDir() });
  db = createPrismaClient(database.url);
  pool = createPool(database.url);
});
afterAll(async () => {
  await db?.$disconnect();
  await pool?.end();
  await database?.drop();
});

const buildCause = (overrides: Partial<SagaCause> = {}): SagaCause => ({
  consumer: 'product-service.orders',
  eventId: randomUUID(),
  correlationId: 'corr-test',
  traceparent: null,
  ...overrides,
});

async function sql(statement: string) {
  const client = new Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

const outboxFor = (orderId: number) => db.outboxEvent.findMany({ where: { aggregateId: String(orderId) }, orderBy: { position: 'asc' } });

it('when a reservation commits, the stock change, the reservation, the inbox row and the StockReserved outbox row are all there', async () => {
  const product = await createProductWithStock(db, 5);
  const orderId = newOrderId();
  const cause = buildCause();

  const outcome = await reserveStock(pool, { orderId, items: [{ product_id: product, quantity: 2 }] }, cause);

  expect(outcome).toBe('applied');
  expect(await stockOf(db, product)).toBe(3);
  expect(await db.stockReservation.findUnique({ where: { orderId } })).toMatchObject({ status: 'reserved', items: [{ product_id: product, quantity: 2 }] });
  expect(await db.processedMessage.count({ where: { eventId: cause.eventId } })).toBe(1);
  const outbox = await outboxFor(orderId);
  expect(outbox.map((row) => [row.type, row.exchange, row.routingKey, row.aggregateType])).toEqual([
    ['StockReserved', 'inventory', 'stock.reserved', 'stock_reservation'],
  ]);
});

it('when the same event is applied again, the second run reports a duplicate and changes nothing', async () => {
  const product = await createProductWithStock(db, 5);
  const orderId = newOrderId();
  const cause = buildCause();
  await reserveStock(pool, { orderId, items: [{ product_id: product, quantity: 2 }] }, cause);

  const outcome = await reserveStock(pool, { orderId, items: [{ product_id: product, quantity: 2 }] }, cause);

  expect(outcome).toBe('duplicate');
  expect(await stockOf(db, product)).toBe(3);
  expect(await outboxFor(orderId)).toHaveLength(1);
});

it('when a second OrderCreated with another event id arrives for a reserved order, it reserves nothing more', async () => {
  const product = await createProductWithStock(db, 5);
  const orderId = newOrderId();
  await reserveStock(pool, { orderId, items: [{ product_id: product, quantity: 2 }] }, buildCause());

  const outcome = await reserveStock(pool, { orderId, items: [{ product_id: product, quantity: 2 }] }, buildCause());

  expect(outcome).toBe('ignored');
  expect(await stockOf(db, product)).toBe(3);
});

it('when writing the outbox row fails, the stock change, the reservation and the inbox row roll back with it', async () => {
  const product = await createProductWithStock(db, 5);
  const orderId = newOrderId();
  const cause = buildCause();
  await sql(`CREATE FUNCTION fail_outbox() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'outbox unavailable'; END; $$;
             CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox_events FOR EACH ROW EXECUTE FUNCTION fail_outbox();`);

  try {
    await expect(reserveStock(pool, { orderId, items: [{ product_id: product, quantity: 2 }] }, cause)).rejects.toThrow(/outbox unavailable/);
  } finally {
    await sql('DROP TRIGGER fail_outbox ON outbox_events; DROP FUNCTION fail_outbox();');
  }

  expect(await stockOf(db, product)).toBe(5);
  expect(await db.stockReservation.findUnique({ where: { orderId } })).toBeNull();
  expect(await db.processedMessage.count({ where: { eventId: cause.eventId } })).toBe(0);
});

it('when a reserved order is released twice by different cancel events, stock comes back once and one StockReleased is written', async () => {
  const product = await createProductWithStock(db, 5);
  const orderId = newOrderId();
  await reserveStock(pool, { orderId, items: [{ product_id: product, quantity: 4 }] }, buildCause());

  const first = await releaseStock(pool, orderId, buildCause());
  const second = await releaseStock(pool, orderId, buildCause());

  expect([first, second]).toEqual(['applied', 'ignored']);
  expect(await stockOf(db, product)).toBe(5);
  expect((await outboxFor(orderId)).map((row) => row.type)).toEqual(['StockReserved', 'StockReleased']);
});

it('when create and cancel of one order run at the same moment, the outcome is either released or tombstoned — never stock held by a cancelled order', async () => {
  const product = await createProductWithStock(db, 50);
  const orders = Array.from({ length: 10 }, () => newOrderId());

  await Promise.all(
    orders.flatMap((orderId) => [
      reserveStock(pool, { orderId, items: [{ product_id: product, quantity: 1 }] }, buildCause()),
      releaseStock(pool, orderId, buildCause()),
    ]),
  );

  const statuses = (await db.stockReservation.findMany({ where: { orderId: { in: orders } } })).map((row) => row.status);
  expect(statuses).toHaveLength(10);
  expect(statuses.every((status) => status === 'released' || status === 'cancelled_before_create')).toBe(true);
  expect(await stockOf(db, product)).toBe(50);
});
