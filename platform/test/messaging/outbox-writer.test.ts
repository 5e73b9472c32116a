import { appendToOutbox, pgExecutor } from '../../src/messaging';
import { createMessagingWorld, inTransaction, type MessagingWorld } from './support/fixtures';
import { buildOrderCreated } from '../../src/testing';

describe('appendToOutbox', () => {
  let world: MessagingWorld;
  beforeAll(async () => {
    world = await createMessagingWorld();
  });
  afterAll(() => world.teardown());

  test('when the transaction commits, its events are in the outbox in order with their routes, unpublished', async () => {
    // Arrange
    const events = [buildOrderCreated(), buildOrderCreated()];

    // Act
    const inserted = await inTransaction(world.pool, (client) => appendToOutbox(pgExecutor(client), events));

    // Assert
    expect(inserted).toBe(2);
    const { rows } = await world.pool.query(
      `SELECT id, type, exchange, routing_key, aggregate_id, sequence, payload, published_at
         FROM outbox_events WHERE id = ANY($1::uuid[]) ORDER BY position`,
      [events.map((event) => event.id)],
    );
    expect(rows.map((row) => row.id)).toEqual(events.map((event) => event.id));
    expect(rows[0]).toMatchObject({
      type: 'OrderCreated',
      exchange: 'orders',
      routing_key: 'order.created',
      aggregate_id: events[0].subject,
      sequence: events[0].sequence,
      published_at: null,
    });
    expect(rows[0].payload).toEqual(events[0]);
  });

  test('when the transaction rolls back, none of its events are in the outbox', async () => {
    // Arrange
    const event = buildOrderCreated();

    // Act
    await expect(
      inTransaction(world.pool, async (client) => {
        await appendToOutbox(pgExecutor(client), [event]);
        throw new Error('the state change failed');
      }),
    ).rejects.toThrow('the state change failed');

    // Assert
    const { rowCount } = await world.pool.query('SELECT 1 FROM outbox_events WHERE id = $1', [event.id]);
    expect(rowCount).toBe(0);
  });
});
