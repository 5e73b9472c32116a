import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { parseEvent, StockReleasedData } from '@shop/contracts';
import { createTestDatabase, newOrderId, type TestDatabase } from '@shop/platform/testing';
import { POOL_BUDGET } from '../../src/config';
import type { Db } from '../../src/db/database';
import { migrationsDir } from '../../src/db/migrations-dir';
import {
  applyStockSteps,
  releaseStock,
  reserveStock,
  type SagaCause,
  type StockStep,
} from '../../src/use-cases/stock-saga';
import { openDb } from '../support/db';
import { createProductWithStock, inboxCount, reservationOf, stockOf } from '../support/saga-world';

/** The saga's use cases against the database alone: what commits together, and what a failure leaves behind. */
let database: TestDatabase;
/** Sized like the service's pool, so concurrent saga steps really run side by side. */
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase({ migrationsDir: migrationsDir() });
  db = openDb(database.url, POOL_BUDGET.size);
});
afterAll(async () => {
  await db?.destroy();
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

const outboxFor = (orderId: number) =>
  db
    .selectFrom('outbox_events')
    .selectAll()
    .where('aggregate_id', '=', String(orderId))
    .orderBy('position')
    .execute();

it('when a reservation commits, the stock change, the reservation, the inbox row and the StockReserved outbox row are all there', async () => {
  const product = await createProductWithStock(db, 5);
  const orderId = newOrderId();
  const cause = buildCause();

  const outcome = await reserveStock(db, { orderId, items: [{ product_id: product, quantity: 2 }] }, cause);

  expect(outcome).toBe('applied');
  expect(await stockOf(db, product)).toBe(3);
  expect(await reservationOf(db, orderId)).toEqual({
    status: 'reserved',
    items: [{ product_id: product, quantity: 2 }],
  });
  expect(await inboxCount(db, cause.eventId)).toBe(1);
  const outbox = await outboxFor(orderId);
  expect(outbox.map((row) => [row.type, row.exchange, row.routing_key, row.aggregate_type])).toEqual([
    ['StockReserved', 'inventory', 'stock.reserved', 'stock_reservation'],
  ]);
});

it('when the same event is applied again, the second run reports a duplicate and changes nothing', async () => {
  const product = await createProductWithStock(db, 5);
  const orderId = newOrderId();
  const cause = buildCause();
  await reserveStock(db, { orderId, items: [{ product_id: product, quantity: 2 }] }, cause);

  const outcome = await reserveStock(db, { orderId, items: [{ product_id: product, quantity: 2 }] }, cause);

  expect(outcome).toBe('duplicate');
  expect(await stockOf(db, product)).toBe(3);
  expect(await outboxFor(orderId)).toHaveLength(1);
});

it('when a second OrderCreated with another event id arrives for a reserved order, it reserves nothing more', async () => {
  const product = await createProductWithStock(db, 5);
  const orderId = newOrderId();
  await reserveStock(db, { orderId, items: [{ product_id: product, quantity: 2 }] }, buildCause());

  const outcome = await reserveStock(
    db,
    { orderId, items: [{ product_id: product, quantity: 2 }] },
    buildCause(),
  );

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
    await expect(
      reserveStock(db, { orderId, items: [{ product_id: product, quantity: 2 }] }, cause),
    ).rejects.toThrow(/outbox unavailable/);
  } finally {
    await sql('DROP TRIGGER fail_outbox ON outbox_events; DROP FUNCTION fail_outbox();');
  }

  expect(await stockOf(db, product)).toBe(5);
  expect(await reservationOf(db, orderId)).toBeUndefined();
  expect(await inboxCount(db, cause.eventId)).toBe(0);
});

it('when a reserved order is released twice by different cancel events, stock comes back once and one StockReleased is written', async () => {
  const product = await createProductWithStock(db, 5);
  const orderId = newOrderId();
  await reserveStock(db, { orderId, items: [{ product_id: product, quantity: 4 }] }, buildCause());

  const first = await releaseStock(db, orderId, buildCause());
  const second = await releaseStock(db, orderId, buildCause());

  expect([first, second]).toEqual(['applied', 'ignored']);
  expect(await stockOf(db, product)).toBe(5);
  expect((await outboxFor(orderId)).map((row) => row.type)).toEqual(['StockReserved', 'StockReleased']);
});

it('when create and cancel of one order run at the same moment, the outcome is either released or tombstoned — never stock held by a cancelled order', async () => {
  const product = await createProductWithStock(db, 50);
  const orders = Array.from({ length: 10 }, () => newOrderId());

  await Promise.all(
    orders.flatMap((orderId) => [
      reserveStock(db, { orderId, items: [{ product_id: product, quantity: 1 }] }, buildCause()),
      releaseStock(db, orderId, buildCause()),
    ]),
  );

  const statuses = (
    await db.selectFrom('stock_reservations').select('status').where('order_id', 'in', orders).execute()
  ).map((row) => row.status);
  expect(statuses).toHaveLength(10);
  expect(statuses.every((status) => status === 'released' || status === 'cancelled_before_create')).toBe(
    true,
  );
  expect(await stockOf(db, product)).toBe(50);
});

it("when a reserved order is released, the StockReleased written to the outbox carries the reservation's items and satisfies its contract", async () => {
  const [first, second] = [await createProductWithStock(db, 10), await createProductWithStock(db, 10)];
  const orderId = newOrderId();
  await reserveStock(
    db,
    {
      orderId,
      items: [
        { product_id: second, quantity: 1 },
        { product_id: first, quantity: 3 },
        { product_id: second, quantity: 2 },
      ],
    },
    buildCause(),
  );
  const reservation = await reservationOf(db, orderId);

  await releaseStock(db, orderId, buildCause());

  const row = (await outboxFor(orderId)).find((candidate) => candidate.type === 'StockReleased');
  const parsed = parseEvent(row?.payload);
  expect(parsed).toMatchObject({ ok: true, event: { type: 'StockReleased', subject: String(orderId) } });
  const data = StockReleasedData.parse((row?.payload as { data: unknown }).data);
  expect(data).toEqual({ order_id: orderId, items: reservation?.items });
  expect(data.items).toEqual([
    { product_id: first, quantity: 3 },
    { product_id: second, quantity: 3 },
  ]);
  expect([await stockOf(db, first), await stockOf(db, second)]).toEqual([10, 10]);
});

describe('the saga steps of events that arrive together, in one transaction (applyStockSteps)', () => {
  it('a batch reserves each order once, releases an order cancelled later in the same batch, and records a status change in the inbox alone', async () => {
    const [mouse, hub] = [await createProductWithStock(db, 10), await createProductWithStock(db, 10)];
    const [kept, cancelled, confirmed] = [newOrderId(), newOrderId(), newOrderId()];
    const steps: StockStep[] = [
      { kind: 'reserve', orderId: kept, items: [{ product_id: mouse, quantity: 2 }], cause: buildCause() },
      { kind: 'reserve', orderId: cancelled, items: [{ product_id: hub, quantity: 3 }], cause: buildCause() },
      { kind: 'release', orderId: cancelled, cause: buildCause() },
      { kind: 'record', orderId: confirmed, cause: buildCause() },
    ];

    const outcomes = await applyStockSteps(db, steps);

    expect(outcomes).toEqual(['applied', 'applied', 'applied', 'ignored']);
    expect(await stockOf(db, mouse)).toBe(8);
    expect(await stockOf(db, hub)).toBe(10);
    expect((await reservationOf(db, cancelled))?.status).toBe('released');
    expect((await outboxFor(cancelled)).map((row) => row.type)).toEqual(['StockReserved', 'StockReleased']);
    for (const step of steps) expect(await inboxCount(db, step.cause.eventId)).toBe(1);
  });

  it('a batch applied again answers duplicate for every step and changes nothing', async () => {
    const product = await createProductWithStock(db, 10);
    const steps: StockStep[] = [newOrderId(), newOrderId()].map((orderId) => ({
      kind: 'reserve',
      orderId,
      items: [{ product_id: product, quantity: 1 }],
      cause: buildCause(),
    }));
    await applyStockSteps(db, steps);

    const again = await applyStockSteps(db, steps);

    expect(again).toEqual(['duplicate', 'duplicate']);
    expect(await stockOf(db, product)).toBe(8);
  });

  it('two reservations in one batch for the last units fail the batch and write nothing; one at a time, one is reserved and the other rejected', async () => {
    const product = await createProductWithStock(db, 2);
    const orders = [newOrderId(), newOrderId()];
    const steps: StockStep[] = orders.map((orderId) => ({
      kind: 'reserve',
      orderId,
      items: [{ product_id: product, quantity: 2 }],
      cause: buildCause(),
    }));

    const together = applyStockSteps(db, steps);

    await expect(together).rejects.toMatchObject({ code: '23514' });
    expect(await stockOf(db, product)).toBe(2);
    for (const step of steps) expect(await inboxCount(db, step.cause.eventId)).toBe(0);
    const oneAtATime = [
      await reserveStock(
        db,
        { orderId: orders[0]!, items: [{ product_id: product, quantity: 2 }] },
        steps[0]!.cause,
      ),
      await reserveStock(
        db,
        { orderId: orders[1]!, items: [{ product_id: product, quantity: 2 }] },
        steps[1]!.cause,
      ),
    ];
    expect(oneAtATime).toEqual(['applied', 'applied']);
    expect([
      (await reservationOf(db, orders[0]!))?.status,
      (await reservationOf(db, orders[1]!))?.status,
    ]).toEqual(['reserved', 'rejected']);
    expect(await stockOf(db, product)).toBe(0);
  });

  it('batches that change the same products in opposite orders all commit: the products are locked in id order before the writes, so none deadlocks', async () => {
    // Ten pairs of batches at once; in each pair one batch takes product a then b, the other b then a.
    const pairs = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const [a, b] = [await createProductWithStock(db, 100), await createProductWithStock(db, 100)];
        const reserve = (productId: number): StockStep => ({
          kind: 'reserve',
          orderId: newOrderId(),
          items: [{ product_id: productId, quantity: 1 }],
          cause: buildCause(),
        });
        return {
          products: [a, b],
          batches: [
            [reserve(a), reserve(b)],
            [reserve(b), reserve(a)],
          ],
        };
      }),
    );

    const outcomes = await Promise.allSettled(
      pairs.flatMap(({ batches }) => batches.map((batch) => applyStockSteps(db, batch))),
    );

    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    for (const { products } of pairs)
      for (const product of products) expect(await stockOf(db, product)).toBe(98);
  });
});
