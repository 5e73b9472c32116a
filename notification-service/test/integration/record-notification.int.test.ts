import { createLogger } from '@shop/platform';
import { buildOrderCreated, buildStockReserved, newOrderId } from '@shop/platform/testing';
import { recordNotification } from '../../src/use-cases/record-notification';
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
});
