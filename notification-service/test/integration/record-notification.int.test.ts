import { createLogger } from '@shop/platform';
import { buildOrderCreated, buildStockReserved, newOrderId } from '@shop/platform/testing';
import { recordNotification, recordNotifications } from '../../src/use-cases/record-notification';
import { buildTestApp, type TestApp } from '../support/build-app';

/** Recording straight through the use case and the database, without a broker in between. */
describe('recording a notification', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  const logger = createLogger('notification-service-test', 'error');
  const record = (consumer: string, event: Parameters<typeof recordNotification>[1]) =>
    recordNotification(t.notifications, event, { claim: { consumer, eventId: event.id }, logger });
  const notificationsOfOrder = async (orderId: number) =>
    (await t.notifications.list({ orderId, limit: 100, offset: 0 })).items;

  it('the same event recorded under another consumer name is a duplicate, and there is still one notification', async () => {
    // Arrange
    const event = buildOrderCreated({ order_id: newOrderId() });

    // Act
    const outcomes = [
      await record('notification-service.events', event),
      await record('a-renamed-queue', event),
    ];

    // Assert
    expect(outcomes).toEqual(['applied', 'duplicate']);
    expect((await notificationsOfOrder(event.data.order_id)).map((item) => item.event_id)).toEqual([
      event.id,
    ]);
  });

  it('an inventory event recorded at the same moment as its OrderCreated always ends up with the user', async () => {
    // Arrange: many orders, each with both events recorded concurrently, so some inventory events
    // are recorded first and some second.
    const orders = Array.from({ length: 20 }, () => {
      const orderId = newOrderId();
      return {
        orderId,
        events: [
          buildStockReserved({ order_id: orderId }),
          buildOrderCreated({ order_id: orderId, user_id: 31 }),
        ],
      };
    });

    // Act
    await Promise.all(orders.flatMap(({ events }) => events.map((event) => record('test', event))));

    // Assert
    for (const { orderId } of orders) {
      expect(
        (await notificationsOfOrder(orderId)).map((item) => [item.event_type, item.user_id]).sort(),
      ).toEqual([
        ['OrderCreated', 31],
        ['StockReserved', 31],
      ]);
    }
  });

  it('events recorded together in one batch are each recorded once, and an inventory event ahead of its OrderCreated in the batch still ends up with the user', async () => {
    // Arrange: order A's StockReserved before its OrderCreated, order B's OrderCreated, and one of
    // A's events again (a redelivery in the same batch).
    const [a, b] = [newOrderId(), newOrderId()];
    const reserved = buildStockReserved({ order_id: a });
    const created = buildOrderCreated({ order_id: a, user_id: 31 });
    const other = buildOrderCreated({ order_id: b, user_id: 32 });
    const batch = [reserved, other, created, reserved].map((event) => ({
      event,
      context: { claim: { consumer: 'test-batch', eventId: event.id }, logger },
    }));

    // Act
    const outcomes = await recordNotifications(t.notifications, batch);

    // Assert
    expect(outcomes).toEqual(['applied', 'applied', 'applied', 'duplicate']);
    expect((await notificationsOfOrder(a)).map((item) => [item.event_type, item.user_id]).sort()).toEqual([
      ['OrderCreated', 31],
      ['StockReserved', 31],
    ]);
    expect((await notificationsOfOrder(b)).map((item) => [item.event_type, item.user_id])).toEqual([
      ['OrderCreated', 32],
    ]);
  });

  it('a batch holding an event already recorded under another consumer name records none of it, and one at a time each is recorded once', async () => {
    // Arrange
    const known = buildOrderCreated({ order_id: newOrderId() });
    await record('notification-service.events', known);
    const fresh = buildOrderCreated({ order_id: newOrderId() });
    const batch = [fresh, known].map((event) => ({
      event,
      context: { claim: { consumer: 'a-renamed-queue', eventId: event.id }, logger },
    }));

    // Act
    const together = recordNotifications(t.notifications, batch);
    await expect(together).rejects.toMatchObject({ code: '23505' });
    const notedBeforeRetry = await notificationsOfOrder(fresh.data.order_id);
    const oneAtATime = [await record('a-renamed-queue', fresh), await record('a-renamed-queue', known)];

    // Assert
    expect(notedBeforeRetry).toEqual([]);
    expect(oneAtATime).toEqual(['applied', 'duplicate']);
    expect((await notificationsOfOrder(known.data.order_id)).map((item) => item.event_id)).toEqual([
      known.id,
    ]);
  });
});
