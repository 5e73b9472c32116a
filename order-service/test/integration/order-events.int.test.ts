import request from 'supertest';
import { deadLetterQueueOf, EXCHANGES, QUEUES, type Order } from '@shop/contracts';
import {
  buildStockReservationFailed,
  buildStockReserved,
  deliveryOutcomes,
  eventually,
  newOrderId,
} from '@shop/platform/testing';
import { bearer, buildOrderBody, newUserId } from '../support/order-world';
import {
  createServiceWorld,
  probeQueue,
  publishEvent,
  publishRaw,
  type ServiceWorld,
} from '../support/service-world';

/** The order service with its relay and inventory consumer, against real Postgres and RabbitMQ. */
describe('order events over RabbitMQ', () => {
  let world: ServiceWorld;
  let probe: Awaited<ReturnType<typeof probeQueue>>;
  beforeAll(async () => {
    world = await createServiceWorld();
    await world.service.consuming(10_000);
    // The product service's queue, standing in for any consumer of the orders exchange.
    probe = await probeQueue(world.vhost.url, QUEUES.productOrders);
  });
  afterAll(async () => {
    await probe?.close();
    await world?.teardown();
  });

  const placeOrder = async (userId = newUserId()) => {
    const response = await request(world.baseUrl)
      .post('/api/v1/orders')
      .set('Authorization', await bearer(userId))
      .send(buildOrderBody());
    expect(response.status).toBe(201);
    return response.body as Order;
  };
  const orderRow = async (id: number) =>
    (await world.pool.query('SELECT status, cancel_reason, version FROM orders WHERE id = $1', [id])).rows[0];
  const statusEventsOf = async (id: number) =>
    (
      await world.pool.query(
        `SELECT payload FROM outbox_events WHERE aggregate_id = $1 AND type = 'OrderStatusUpdated'`,
        [String(id)],
      )
    ).rows.map(
      (row) => row.payload as { data: Record<string, unknown>; causationid: string; sequence: number },
    );
  const stockReservationFailed = (orderId: number, id?: string) =>
    publishEvent(world.vhost.url, buildStockReservationFailed({ order_id: orderId }, { id }));
  const inboxRowsOf = async (eventId: string) =>
    (
      await world.pool.query('SELECT count(*)::int AS n FROM processed_messages WHERE event_id = $1', [
        eventId,
      ])
    ).rows[0].n as number;

  test('a placed order is published as OrderCreated with the CloudEvents properties, and marked published', async () => {
    const order = await placeOrder();

    const body = await eventually(
      () =>
        probe.bodies().find((event) => event.type === 'OrderCreated' && event.data.order_id === order.id) ??
        false,
    );

    const message = probe.messages.find((candidate) => candidate.properties.messageId === body.id)!;
    expect(message.fields.routingKey).toBe('order.created');
    expect(message.properties).toMatchObject({
      type: 'OrderCreated',
      contentType: 'application/cloudevents+json',
      deliveryMode: 2,
    });
    await eventually(async () =>
      expect(
        (await world.pool.query('SELECT published_at FROM outbox_events WHERE id = $1', [body.id])).rows[0]
          ?.published_at,
      ).toBeInstanceOf(Date),
    );
  });

  test('StockReservationFailed cancels the order with reason insufficient_stock, once, even when delivered twice', async () => {
    // Arrange
    const order = await placeOrder();

    // Act: the same event (same id) delivered twice.
    const event = await stockReservationFailed(order.id);
    await stockReservationFailed(order.id, event.id);

    // Assert: the consumer works on several events at once, so no later message can be a marker;
    // its own account of settling the second copy is what shows the duplicate was processed.
    await eventually(() => deliveryOutcomes(world.logs, event.id).length === 2, {
      description: 'both copies settled',
    });
    expect(deliveryOutcomes(world.logs, event.id).sort()).toEqual(['applied', 'duplicate']);
    expect(await inboxRowsOf(event.id)).toBe(1);
    expect(await orderRow(order.id)).toEqual({
      status: 'cancelled',
      cancel_reason: 'insufficient_stock',
      version: 1,
    });
    const events = await statusEventsOf(order.id);
    expect(events).toHaveLength(1);
    expect(events[0]!.data).toMatchObject({
      from_status: 'pending',
      to_status: 'cancelled',
      reason: 'insufficient_stock',
    });
    expect(events[0]!.causationid).toBe(event.id);
    // …and the cancellation is itself published.
    await eventually(() =>
      expect(
        probe
          .bodies()
          .filter((body) => body.type === 'OrderStatusUpdated' && body.data.order_id === order.id),
      ).toHaveLength(1),
    );
  });

  test('StockReservationFailed for an order that can no longer be cancelled changes nothing but is recorded', async () => {
    const order = await placeOrder();
    const admin = await bearer(1, ['admin']);
    for (const status of ['confirmed', 'shipped', 'delivered']) {
      await request(world.baseUrl)
        .patch(`/api/v1/orders/${order.id}/status`)
        .set('Authorization', admin)
        .send({ status });
    }

    const event = await stockReservationFailed(order.id);

    await eventually(async () => (await inboxRowsOf(event.id)) === 1);
    expect(await orderRow(order.id)).toMatchObject({ status: 'delivered', version: 3 });
  });

  test('an order cancelled for insufficient stock keeps its items, and its OrderStatusUpdated is built like a PATCH cancel’s', async () => {
    // Arrange: two orders of one user, one to be cancelled by its owner, one by the saga.
    const userId = newUserId();
    const auth = await bearer(userId);
    const byOwner = await placeOrder(userId);
    const bySaga = await placeOrder(userId);
    const patched = await request(world.baseUrl)
      .patch(`/api/v1/orders/${byOwner.id}/status`)
      .set('Authorization', auth)
      .send({ status: 'cancelled', reason: 'changed my mind' });
    expect(patched.status).toBe(200);

    // Act
    const event = await stockReservationFailed(bySaga.id);
    await eventually(() => deliveryOutcomes(world.logs, event.id).length === 1);

    // Assert: the order is whole, and both events say the same things of their orders.
    const read = await request(world.baseUrl).get(`/api/v1/orders/${bySaga.id}`).set('Authorization', auth);
    expect(read.body).toMatchObject({ status: 'cancelled', cancel_reason: 'insufficient_stock' });
    expect(read.body.items).toHaveLength(2);
    expect(read.body.items).toEqual(bySaga.items);
    const cancelledEvent = (order: { id: number; updated_at: string }, reason: string) => ({
      order_id: order.id,
      user_id: userId,
      from_status: 'pending',
      to_status: 'cancelled',
      reason,
      updated_at: order.updated_at,
    });
    const [sagaEvent] = await statusEventsOf(bySaga.id);
    const [patchEvent] = await statusEventsOf(byOwner.id);
    expect(sagaEvent!.data).toEqual(cancelledEvent(read.body, 'insufficient_stock'));
    expect(patchEvent!.data).toEqual(cancelledEvent(patched.body, 'changed my mind'));
    expect([sagaEvent!.sequence, patchEvent!.sequence]).toEqual([1, 1]);
  });

  test('a StockReservationFailed for an order already cancelled is recorded once and changes nothing, however often it comes', async () => {
    // Arrange: the owner cancelled the order first.
    const userId = newUserId();
    const order = await placeOrder(userId);
    const cancelled = await request(world.baseUrl)
      .patch(`/api/v1/orders/${order.id}/status`)
      .set('Authorization', await bearer(userId))
      .send({ status: 'cancelled' });
    expect(cancelled.status).toBe(200);

    // Act: the saga's word arrives late, twice.
    const event = await stockReservationFailed(order.id);
    await eventually(() => deliveryOutcomes(world.logs, event.id).length === 1);
    await stockReservationFailed(order.id, event.id);
    await eventually(() => deliveryOutcomes(world.logs, event.id).length === 2);

    // Assert
    expect(deliveryOutcomes(world.logs, event.id)).toEqual(['ignored', 'duplicate']);
    expect(await inboxRowsOf(event.id)).toBe(1);
    expect(await orderRow(order.id)).toEqual({ status: 'cancelled', cancel_reason: null, version: 1 });
    expect(await statusEventsOf(order.id)).toHaveLength(1);
  });

  test('other inventory events are only recorded in the inbox', async () => {
    const order = await placeOrder();

    const event = await publishEvent(world.vhost.url, buildStockReserved({ order_id: order.id }));

    await eventually(async () => (await inboxRowsOf(event.id)) === 1);
    expect(await orderRow(order.id)).toMatchObject({ status: 'pending', version: 0 });
  });

  test('inventory events delivered at once, a copy among them, are each recorded once, and a StockReservationFailed among them still cancels its order', async () => {
    // Arrange: one StockReserved for a placed order, more for other orders, and a failed reservation.
    const [reserved, failed] = [await placeOrder(), await placeOrder()];
    const records = [reserved.id, ...Array.from({ length: 11 }, () => newOrderId())].map((orderId) =>
      buildStockReserved({ order_id: orderId }),
    );
    const cancel = buildStockReservationFailed({ order_id: failed.id });

    // Act: all published at once, the first of them twice.
    await Promise.all([...records, records[0]!, cancel].map((event) => publishEvent(world.vhost.url, event)));

    // Assert
    await eventually(() => deliveryOutcomes(world.logs, records[0]!.id).length === 2, {
      description: 'both copies settled',
    });
    expect(deliveryOutcomes(world.logs, records[0]!.id).sort()).toEqual(['duplicate', 'ignored']);
    await eventually(async () => (await orderRow(failed.id)).status === 'cancelled');
    await eventually(
      async () =>
        (await Promise.all([...records, cancel].map((event) => inboxRowsOf(event.id)))).every((n) => n === 1),
      { description: 'every event recorded once' },
    );
    expect(await orderRow(reserved.id)).toMatchObject({ status: 'pending', version: 0 });
  });

  test('a malformed message reaches order-service.inventory.dlq and the consumer goes on', async () => {
    const dlq = await probeQueue(world.vhost.url, deadLetterQueueOf(QUEUES.orderInventory.name));
    try {
      await publishRaw(
        world.vhost.url,
        EXCHANGES.inventory,
        'stock.reservation_failed',
        '{"not": "an event"',
        'poison-1',
      );
      const order = await placeOrder();
      await stockReservationFailed(order.id);

      await eventually(() => dlq.messages.some((message) => message.properties.messageId === 'poison-1'));
      await eventually(async () => (await orderRow(order.id)).status === 'cancelled');
    } finally {
      await dlq.close();
    }
  });

  test('the service health reports the database and the broker up', async () => {
    const response = await request(world.baseUrl).get('/health');

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      status: 'ok',
      checks: { database: { status: 'up' }, broker: { status: 'up' } },
    });
  });
});
