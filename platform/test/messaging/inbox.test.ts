import { randomUUID } from 'node:crypto';
import { inTransaction } from '../../src/database';
import { claimInbox } from '../../src/messaging';
import { createMessagingWorld, type MessagingWorld } from './support/fixtures';

describe('claimInbox', () => {
  let world: MessagingWorld;
  beforeAll(async () => {
    world = await createMessagingWorld();
  });
  afterAll(() => world.teardown());

  const inboxRows = async (eventId: string) =>
    (
      await world.pool.query<{ consumer: string }>(
        'SELECT consumer FROM processed_messages WHERE event_id = $1 ORDER BY consumer',
        [eventId],
      )
    ).rows.map((row) => row.consumer);

  test('the first claim of an event by a consumer is true and every later one is false', async () => {
    // Arrange
    const eventId = randomUUID();

    // Act
    const claims = [
      await inTransaction(world.database, (tx) => claimInbox(tx, 'product-service.orders', eventId)),
      await inTransaction(world.database, (tx) => claimInbox(tx, 'product-service.orders', eventId)),
      await claimInbox(world.database, 'product-service.orders', eventId),
    ];

    // Assert
    expect(claims).toEqual([true, false, false]);
    expect(await inboxRows(eventId)).toEqual(['product-service.orders']);
  });

  test('each consumer claims the same event once for itself', async () => {
    // Arrange
    const eventId = randomUUID();

    // Act
    const first = await claimInbox(world.database, 'order-service.stock', eventId);
    const other = await claimInbox(world.database, 'notification-service.events', eventId);

    // Assert
    expect([first, other]).toEqual([true, true]);
    expect(await inboxRows(eventId)).toEqual(['notification-service.events', 'order-service.stock']);
  });

  test('a claim inside a transaction that rolls back leaves no row, so the redelivery claims it', async () => {
    // Arrange
    const eventId = randomUUID();
    const claimedBeforeTheFailure: boolean[] = [];

    // Act
    await expect(
      inTransaction(world.database, async (tx) => {
        claimedBeforeTheFailure.push(await claimInbox(tx, 'product-service.orders', eventId));
        throw new Error('the effect failed');
      }),
    ).rejects.toThrow('the effect failed');
    const rowsAfterRollback = await inboxRows(eventId);
    const redelivery = await inTransaction(world.database, (tx) =>
      claimInbox(tx, 'product-service.orders', eventId),
    );

    // Assert
    expect(claimedBeforeTheFailure).toEqual([true]);
    expect(rowsAfterRollback).toEqual([]);
    expect(redelivery).toBe(true);
  });
});
