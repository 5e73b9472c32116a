import { ROUTES } from '@shop/contracts';
import type { Pool } from 'pg';
import { createPgPool } from '../../src/pg';
import { createDatabase, inTransaction, writeAll, type Database } from '../../src/database';
import { appendToOutbox, outboxWrite } from '../../src/messaging';
import { recordStatementsSent } from '../support/statements-sent';
import {
  commitToOutbox,
  createMessagingWorld,
  logger,
  type MessagingTables,
  type MessagingWorld,
} from './support/fixtures';
import { buildOrderCreated, buildStockReleased, buildStockReserved } from '../../src/testing';

describe('appendToOutbox', () => {
  let world: MessagingWorld;
  beforeAll(async () => {
    world = await createMessagingWorld();
  });
  afterAll(() => world.teardown());

  const rowsOf = async (ids: string[]) =>
    (
      await world.pool.query(
        `SELECT id, aggregate_type, aggregate_id, sequence, type, exchange, routing_key, payload, headers, published_at
           FROM outbox_events WHERE id = ANY($1::uuid[]) ORDER BY position`,
        [ids],
      )
    ).rows;

  test('when the transaction commits, its events are in the outbox in the order given, routed by ROUTES, unpublished', async () => {
    // Arrange: types on two exchanges, in an order that is neither by type nor by id.
    const events = [buildStockReserved(), buildOrderCreated(), buildStockReleased()];

    // Act
    await inTransaction(world.database, (tx) => appendToOutbox(tx, events, { aggregateType: 'reservation' }));

    // Assert
    const rows = await rowsOf(events.map((event) => event.id));
    expect(rows.map((row) => row.id)).toEqual(events.map((event) => event.id));
    expect(rows).toEqual(
      events.map((event) => ({
        id: event.id,
        aggregate_type: 'reservation',
        aggregate_id: event.subject,
        sequence: event.sequence,
        type: event.type,
        exchange: ROUTES[event.type].exchange,
        routing_key: ROUTES[event.type].routingKey,
        payload: event,
        headers: {},
        published_at: null,
      })),
    );
    expect(new Set(rows.map((row) => row.exchange))).toEqual(new Set(['inventory', 'orders']));
  });

  test("an event's traceparent is carried in the row's headers, for the relay to publish with it", async () => {
    // Arrange
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const event = buildOrderCreated({}, { traceparent });

    // Act
    await commitToOutbox(world.database, [event]);

    // Assert
    const [row] = await rowsOf([event.id]);
    expect(row.headers).toEqual({ traceparent });
    expect(row.payload.traceparent).toBe(traceparent);
  });

  test('when the transaction rolls back, none of its events are in the outbox', async () => {
    // Arrange
    const events = [buildOrderCreated(), buildOrderCreated()];

    // Act
    await expect(
      inTransaction(world.database, async (tx) => {
        await appendToOutbox(tx, events, { aggregateType: 'order' });
        throw new Error('the state change failed');
      }),
    ).rejects.toThrow('the state change failed');

    // Assert
    expect(await rowsOf(events.map((event) => event.id))).toEqual([]);
  });

  test('no events write no rows, and the transaction still commits', async () => {
    // Arrange
    const before = (await world.pool.query('SELECT count(*)::int AS n FROM outbox_events')).rows[0].n;

    // Act
    const result = await inTransaction(world.database, async (tx) => {
      await appendToOutbox(tx, [], { aggregateType: 'order' });
      return 'committed';
    });

    // Assert
    expect(result).toBe('committed');
    expect((await world.pool.query('SELECT count(*)::int AS n FROM outbox_events')).rows[0].n).toBe(before);
  });
});

describe('outboxWrite', () => {
  interface Tables extends MessagingTables {
    reservations: { order_id: number; status: string };
  }

  let world: MessagingWorld;
  let pool: Pool;
  let sent: string[];
  let database: Database<Tables>;
  beforeAll(async () => {
    world = await createMessagingWorld();
    await world.pool.query('CREATE TABLE reservations (order_id int PRIMARY KEY, status text NOT NULL)');
    pool = createPgPool(world.db.url, { max: 2, logger });
    sent = recordStatementsSent(pool);
    database = createDatabase<Tables>(pool);
  });
  beforeEach(() => {
    sent.length = 0;
  });
  afterAll(async () => {
    await database.destroy();
    await world.teardown();
  });

  const outboxRows = async (ids: string[]) =>
    (
      await world.pool.query<{ id: string; aggregate_type: string; payload: unknown }>(
        'SELECT id, aggregate_type, payload FROM outbox_events WHERE id = ANY($1::uuid[]) ORDER BY position',
        [ids],
      )
    ).rows;
  const reservation = async (orderId: number) =>
    (await world.pool.query('SELECT status FROM reservations WHERE order_id = $1', [orderId])).rows;

  test('in writeAll, the events land in the same statement as the state change, in the order given', async () => {
    // Arrange
    const events = [buildStockReserved(), buildStockReleased()];

    // Act
    await inTransaction(database, (tx) =>
      writeAll(tx, [
        tx.insertInto('reservations').values({ order_id: 1, status: 'RESERVED' }),
        outboxWrite(tx, events, { aggregateType: 'reservation' }),
      ]),
    );

    // Assert: BEGIN, the one statement, COMMIT.
    expect(sent).toEqual(['BEGIN', expect.stringMatching(/^with "write_0" as/), 'COMMIT']);
    expect(await reservation(1)).toEqual([{ status: 'RESERVED' }]);
    expect(await outboxRows(events.map((event) => event.id))).toEqual(
      events.map((event) => ({ id: event.id, aggregate_type: 'reservation', payload: event })),
    );
  });

  test('in writeAll, a state change that fails takes its events with it', async () => {
    // Arrange
    await world.pool.query("INSERT INTO reservations VALUES (2, 'RESERVED')");
    const event = buildStockReserved();

    // Act
    const outcome = writeAll(database, [
      outboxWrite(database, [event], { aggregateType: 'reservation' }),
      database.insertInto('reservations').values({ order_id: 2, status: 'RESERVED' }),
    ]);

    // Assert
    await expect(outcome).rejects.toThrow(/duplicate key/);
    expect(await outboxRows([event.id])).toEqual([]);
  });

  test('no events are refused, since an INSERT of no rows is not a statement', () => {
    // Act
    const build = () => outboxWrite(database, [], { aggregateType: 'order' });

    // Assert
    expect(build).toThrow(TypeError);
    expect(build).toThrow('outboxWrite needs at least one event');
  });

  test('appendToOutbox alone still writes its events in one statement of its own', async () => {
    // Arrange
    const events = [buildOrderCreated(), buildOrderCreated()];

    // Act
    await inTransaction(database, (tx) => appendToOutbox(tx, events, { aggregateType: 'order' }));

    // Assert
    expect(sent).toEqual(['BEGIN', expect.stringMatching(/^insert into "outbox_events"/), 'COMMIT']);
    expect((await outboxRows(events.map((event) => event.id))).map((row) => row.id)).toEqual(
      events.map((event) => event.id),
    );
  });
});
