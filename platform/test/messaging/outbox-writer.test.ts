import { ROUTES } from '@shop/contracts';
import { inTransaction } from '../../src/database';
import { appendToOutbox } from '../../src/messaging';
import { commitToOutbox, createMessagingWorld, type MessagingWorld } from './support/fixtures';
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
