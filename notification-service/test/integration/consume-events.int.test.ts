import { randomUUID } from 'node:crypto';
import {
  buildOrderCreated,
  buildOrderStatusUpdated,
  buildStockReleased,
  buildStockReservationFailed,
  buildStockReserved,
  deliveryOutcomes,
  eventually,
  newOrderId,
} from '@shop/platform/testing';
import { EXCHANGES, startTestService, type TestService } from '../support/service';

describe('notification service: consuming notification-service.events', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService();
  });
  afterAll(() => t.close());

  const countFor = async (eventId: string) => (await t.notificationsOf(eventId)).length;

  it('each order and inventory event published on the broker becomes one notification row with its message', async () => {
    // Arrange
    const orderId = newOrderId();
    const events = [
      buildOrderCreated({ order_id: orderId, user_id: 42 }),
      buildStockReserved({ order_id: orderId }),
      buildOrderStatusUpdated({ order_id: orderId, user_id: 42, from_status: 'pending', to_status: 'confirmed' }, { sequence: 1 }),
      buildOrderStatusUpdated(
        { order_id: orderId, user_id: 42, from_status: 'confirmed', to_status: 'cancelled', reason: 'changed my mind' },
        { sequence: 2 },
      ),
      buildStockReleased({ order_id: orderId }),
    ];

    // Act
    for (const event of events) await t.publish(event);

    // Assert
    await eventually(async () => (await Promise.all(events.map((event) => countFor(event.id)))).every((count) => count === 1));
    const rows = await Promise.all(events.map(async (event) => (await t.notificationsOf(event.id))[0]));
    expect(rows).toEqual([
      { event_type: 'OrderCreated', order_id: orderId, user_id: 42, message: `Order #${orderId} for user 42 created: 2 items, total 205.48` },
      { event_type: 'StockReserved', order_id: orderId, user_id: 42, message: `Stock reserved for order #${orderId}: 2 items` },
      { event_type: 'OrderStatusUpdated', order_id: orderId, user_id: 42, message: `Order #${orderId} status pending → confirmed` },
      {
        event_type: 'OrderStatusUpdated',
        order_id: orderId,
        user_id: 42,
        message: `Order #${orderId} status confirmed → cancelled (reason: changed my mind)`,
      },
      { event_type: 'StockReleased', order_id: orderId, user_id: 42, message: `Stock released for order #${orderId}` },
    ]);
  });

  it('an inventory event for an order never seen is recorded without a user, and gets one once OrderCreated arrives', async () => {
    const orderId = newOrderId();
    const failed = buildStockReservationFailed({ order_id: orderId });
    await t.publish(failed);
    await eventually(async () => (await countFor(failed.id)) === 1);
    expect((await t.notificationsOf(failed.id))[0]).toMatchObject({
      user_id: null,
      message: `Stock reservation failed for order #${orderId}: product 3 short (requested 10, available 5)`,
    });

    const created = buildOrderCreated({ order_id: orderId, user_id: 77 });
    await t.publish(created);

    await eventually(async () => (await countFor(created.id)) === 1);
    expect((await t.notificationsOf(failed.id))[0].user_id).toBe(77);
  });

  it('when the same event is delivered twice, there is still one notification and nothing is dead-lettered', async () => {
    // Arrange
    const event = buildOrderCreated();

    // Act
    await t.publish(event);
    await t.publish(event);

    // Assert: the consumer works on several events at once, so no later message can be a marker;
    // its own account of settling the second copy is what shows the duplicate was processed.
    await eventually(() => deliveryOutcomes(t.logs, event.id).length === 2, { description: 'both copies settled' });
    expect(deliveryOutcomes(t.logs, event.id).sort()).toEqual(['applied', 'duplicate']);
    expect(await countFor(event.id)).toBe(1);
    expect(await t.drainDeadLetters()).toHaveLength(0);
  });

  it('a poison message goes to the DLQ and the next event is still processed', async () => {
    // Arrange
    const poisonId = randomUUID();
    const wrongPayload = { ...buildOrderCreated(), id: poisonId, data: { order_id: 'twelve' } };
    const next = buildOrderCreated();

    // Act
    await t.publish({ exchange: EXCHANGES.orders, routingKey: 'order.created', body: '{not json' });
    await t.publish({ exchange: EXCHANGES.orders, routingKey: 'order.created', body: JSON.stringify(wrongPayload) });
    await t.publish(next);

    // Assert
    await eventually(async () => (await countFor(next.id)) === 1);
    let deadLetters: string[] = [];
    await eventually(async () => {
      deadLetters = [...deadLetters, ...(await t.drainDeadLetters()).map((message) => message.content.toString())];
      return deadLetters.length >= 2;
    });
    expect(deadLetters).toEqual(['{not json', JSON.stringify(wrongPayload)]);
    expect(await countFor(poisonId)).toBe(0);
  });

  it('an event the contract does not know goes to the DLQ', async () => {
    const unknown = { ...buildOrderCreated(), type: 'OrderTeleported', dataschema: 'urn:shop:events:OrderTeleported:1' };

    await t.publish({ exchange: EXCHANGES.orders, routingKey: 'order.teleported', body: JSON.stringify(unknown) });

    let deadLetters: string[] = [];
    await eventually(async () => {
      deadLetters = [...deadLetters, ...(await t.drainDeadLetters()).map((message) => message.content.toString())];
      return deadLetters.length >= 1;
    });
    expect(JSON.parse(deadLetters[0])).toMatchObject({ id: unknown.id, type: 'OrderTeleported' });
  });

  it('/health reports the database and the broker up', async () => {
    const response = await fetch(`${t.url}/health`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ok',
      service: 'notification-service',
      checks: { database: { status: 'up' }, broker: { status: 'up' } },
    });
  });
});
