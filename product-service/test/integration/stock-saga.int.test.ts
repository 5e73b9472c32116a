import {
  buildOrderCreated,
  buildOrderStatusUpdated,
  deliveryOutcomes,
  eventually,
  newOrderId,
} from '@shop/platform/testing';
import {
  createProductWithStock,
  createSagaWorld,
  inboxCount,
  inventoryFor,
  reservationOf as reservationIn,
  sendMarker,
  stockOf,
  type SagaWorld,
} from '../support/saga-world';

let world: SagaWorld;
beforeAll(async () => {
  world = await createSagaWorld();
});
afterAll(() => world?.teardown());

const reservationOf = (orderId: number) => reservationIn(world.db, orderId);
/** How the consumer settled each delivery of this event so far. */
const outcomesOf = (eventId: string) => deliveryOutcomes(world.logs, eventId);
/** Waits until the consumer has settled this many deliveries of the event (handled, duplicate or dead-lettered). */
const settled = (eventId: string, deliveries = 1) =>
  eventually(() => outcomesOf(eventId).length >= deliveries, {
    description: `${deliveries} deliveries of ${eventId} settled`,
  });
const orderCreated = (orderId: number, items: { product_id: number; quantity: number }[]) =>
  buildOrderCreated({ order_id: orderId, items });
const statusUpdated = (
  orderId: number,
  to: 'cancelled' | 'confirmed',
  from: 'pending' | 'confirmed' | 'shipped' = 'pending',
) => buildOrderStatusUpdated({ order_id: orderId, from_status: from, to_status: to });

describe('reserving stock when an order is created', () => {
  it('when an OrderCreated is delivered twice, stock is decremented once and StockReserved is published once', async () => {
    const mouse = await createProductWithStock(world.db, 10);
    const hub = await createProductWithStock(world.db, 4);
    const orderId = newOrderId();
    const created = orderCreated(orderId, [
      { product_id: hub, quantity: 1 },
      { product_id: mouse, quantity: 3 },
    ]);

    await world.publish(created);
    await world.publish(created);
    await settled(created.id, 2);
    await sendMarker(world);

    expect(outcomesOf(created.id).sort()).toEqual(['applied', 'duplicate']);
    expect(await stockOf(world.db, mouse)).toBe(7);
    expect(await stockOf(world.db, hub)).toBe(3);
    expect((await reservationOf(orderId))?.status).toBe('reserved');
    const events = inventoryFor(world, orderId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'StockReserved',
      source: '/product-service',
      subject: String(orderId),
      causationid: created.id,
      correlationid: created.correlationid,
      data: {
        order_id: orderId,
        items: [
          { product_id: Math.min(mouse, hub), quantity: mouse < hub ? 3 : 1 },
          { product_id: Math.max(mouse, hub), quantity: mouse < hub ? 1 : 3 },
        ],
      },
    });
  });

  it('when two orders race for the last units, stock never goes negative: one is reserved and the other fails with its shortage', async () => {
    const keyboard = await createProductWithStock(world.db, 2);
    const [first, second] = [newOrderId(), newOrderId()];

    await Promise.all([
      world.publish(orderCreated(first, [{ product_id: keyboard, quantity: 2 }])),
      world.publish(orderCreated(second, [{ product_id: keyboard, quantity: 2 }])),
    ]);
    await eventually(() => inventoryFor(world, first).length + inventoryFor(world, second).length === 2, {
      description: 'both outcomes published',
    });

    expect(await stockOf(world.db, keyboard)).toBe(0);
    const outcomes = [...inventoryFor(world, first), ...inventoryFor(world, second)];
    expect(outcomes.map((event) => event.type).sort()).toEqual(['StockReservationFailed', 'StockReserved']);
    const failed = outcomes.find((event) => event.type === 'StockReservationFailed')!;
    expect(failed.data).toEqual({
      order_id: expect.any(Number),
      reason: 'insufficient_stock',
      shortages: [{ product_id: keyboard, requested: 2, available: 0 }],
    });
    expect((await reservationOf((failed.data as { order_id: number }).order_id))?.status).toBe('rejected');
  });

  it('when many orders race for a few units, exactly that many are reserved and the stock ends at zero', async () => {
    const lamp = await createProductWithStock(world.db, 3);
    const orders = Array.from({ length: 8 }, () => newOrderId());

    await Promise.all(
      orders.map((orderId) => world.publish(orderCreated(orderId, [{ product_id: lamp, quantity: 1 }]))),
    );
    await eventually(() => orders.every((orderId) => inventoryFor(world, orderId).length === 1), {
      description: 'every order answered',
    });

    const types = orders.map((orderId) => inventoryFor(world, orderId)[0].type);
    expect(types.filter((type) => type === 'StockReserved')).toHaveLength(3);
    expect(types.filter((type) => type === 'StockReservationFailed')).toHaveLength(5);
    expect(await stockOf(world.db, lamp)).toBe(0);
  });

  it('when one line is short or unknown, nothing is reserved and the failure lists every shortage (unknown as 0 available)', async () => {
    const plenty = await createProductWithStock(world.db, 100);
    const scarce = await createProductWithStock(world.db, 1);
    const orderId = newOrderId();

    await world.publish(
      orderCreated(orderId, [
        { product_id: plenty, quantity: 5 },
        { product_id: scarce, quantity: 2 },
        { product_id: 999_999, quantity: 1 },
      ]),
    );
    await eventually(() => inventoryFor(world, orderId).length === 1, { description: 'failure published' });

    expect(inventoryFor(world, orderId)[0]).toMatchObject({
      type: 'StockReservationFailed',
      data: {
        order_id: orderId,
        reason: 'insufficient_stock',
        shortages: [
          { product_id: scarce, requested: 2, available: 1 },
          { product_id: 999_999, requested: 1, available: 0 },
        ],
      },
    });
    expect(await stockOf(world.db, plenty)).toBe(100);
    expect(await stockOf(world.db, scarce)).toBe(1);
  });
});

describe('releasing stock when an order is cancelled', () => {
  it('when a reserved order is cancelled, its stock comes back once, even if the cancel is duplicated or repeated', async () => {
    const product = await createProductWithStock(world.db, 5);
    const orderId = newOrderId();
    await world.publish(orderCreated(orderId, [{ product_id: product, quantity: 4 }]));
    await eventually(() => inventoryFor(world, orderId).some((event) => event.type === 'StockReserved'), {
      description: 'reserved',
    });
    const cancel = statusUpdated(orderId, 'cancelled');
    const secondCancel = statusUpdated(orderId, 'cancelled', 'confirmed');

    await world.publish(cancel);
    await world.publish(cancel);
    await world.publish(secondCancel);
    await settled(cancel.id, 2);
    await settled(secondCancel.id);
    await sendMarker(world);

    expect(outcomesOf(cancel.id).sort()).toEqual(['applied', 'duplicate']);
    expect(await stockOf(world.db, product)).toBe(5);
    expect((await reservationOf(orderId))?.status).toBe('released');
    const released = inventoryFor(world, orderId).filter((event) => event.type === 'StockReleased');
    expect(released).toHaveLength(1);
    expect(released[0]).toMatchObject({
      causationid: cancel.id,
      data: { order_id: orderId, items: [{ product_id: product, quantity: 4 }] },
    });
  });

  it('when a reserved confirmed order is cancelled, its stock comes back once', async () => {
    const product = await createProductWithStock(world.db, 5);
    const orderId = newOrderId();
    await world.publish(orderCreated(orderId, [{ product_id: product, quantity: 3 }]));
    await eventually(() => inventoryFor(world, orderId).some((event) => event.type === 'StockReserved'), {
      description: 'reserved',
    });
    const cancel = statusUpdated(orderId, 'cancelled', 'confirmed');

    await world.publish(cancel);
    await settled(cancel.id);
    await sendMarker(world);

    expect(await stockOf(world.db, product)).toBe(5);
    expect((await reservationOf(orderId))?.status).toBe('released');
    expect(inventoryFor(world, orderId).filter((event) => event.type === 'StockReleased')).toHaveLength(1);
  });

  it('when a shipped order is cancelled (by an admin), its stock does not come back: the goods have left', async () => {
    // Arrange: one shipped order and, on the same product, a pending one whose cancel is the marker.
    const product = await createProductWithStock(world.db, 10);
    const [shipped, marker] = [newOrderId(), newOrderId()];
    await world.publish(orderCreated(shipped, [{ product_id: product, quantity: 4 }]));
    await world.publish(orderCreated(marker, [{ product_id: product, quantity: 1 }]));
    await eventually(
      () =>
        [shipped, marker].every((orderId) =>
          inventoryFor(world, orderId).some((event) => event.type === 'StockReserved'),
        ),
      { description: 'both reserved' },
    );
    const cancel = statusUpdated(shipped, 'cancelled', 'shipped');
    const markerCancel = statusUpdated(marker, 'cancelled', 'pending');

    // Act
    await world.publish(cancel);
    await settled(cancel.id);
    await world.publish(markerCancel);
    await eventually(() => inventoryFor(world, marker).some((event) => event.type === 'StockReleased'), {
      description: 'marker released',
    });

    // Assert: only the marker's unit came back; the shipped order's reservation stands, unreleased.
    expect(await stockOf(world.db, product)).toBe(10 - 4);
    expect((await reservationOf(shipped))?.status).toBe('reserved');
    expect(inventoryFor(world, shipped).map((event) => event.type)).toEqual(['StockReserved']);
    expect(await inboxCount(world.db, cancel.id)).toBe(1);
  });

  it('when a cancel arrives before its create, it waits for the create: the stock is reserved, then released, once', async () => {
    const product = await createProductWithStock(world.db, 5);
    const orderId = newOrderId();
    const cancel = statusUpdated(orderId, 'cancelled');
    const created = orderCreated(orderId, [{ product_id: product, quantity: 2 }]);

    await world.publish(cancel);
    await eventually(
      () =>
        world.logs.some(
          (line) =>
            line.message === 'event came before its turn, trying again' && line.event_id === cancel.id,
        ),
      { description: 'the cancel held back' },
    );
    await world.publish(created);
    await settled(created.id);
    await settled(cancel.id);
    await sendMarker(world);

    expect(outcomesOf(cancel.id)).toEqual(['applied']);
    expect((await reservationOf(orderId))?.status).toBe('released');
    expect(await stockOf(world.db, product)).toBe(5);
    expect(inventoryFor(world, orderId).map((event) => event.type)).toEqual([
      'StockReserved',
      'StockReleased',
    ]);
  });

  it('when a rejected order is cancelled, no stock is released', async () => {
    const product = await createProductWithStock(world.db, 1);
    const orderId = newOrderId();
    await world.publish(orderCreated(orderId, [{ product_id: product, quantity: 3 }]));
    await eventually(() => inventoryFor(world, orderId).length === 1, { description: 'failure published' });
    const cancel = statusUpdated(orderId, 'cancelled');

    await world.publish(cancel);
    await settled(cancel.id);
    await sendMarker(world);

    expect(await stockOf(world.db, product)).toBe(1);
    expect((await reservationOf(orderId))?.status).toBe('rejected');
    expect(inventoryFor(world, orderId).map((event) => event.type)).toEqual(['StockReservationFailed']);
  });

  it('when an order moves to another status, only the inbox records it', async () => {
    const product = await createProductWithStock(world.db, 5);
    const orderId = newOrderId();
    const created = orderCreated(orderId, [{ product_id: product, quantity: 1 }]);
    const confirmed = statusUpdated(orderId, 'confirmed');
    await world.publish(created);
    await settled(created.id);

    await world.publish(confirmed);
    await settled(confirmed.id);
    await sendMarker(world);

    expect(outcomesOf(confirmed.id)).toEqual(['ignored']);
    expect((await reservationOf(orderId))?.status).toBe('reserved');
    expect(await stockOf(world.db, product)).toBe(4);
    expect(inventoryFor(world, orderId).map((event) => event.type)).toEqual(['StockReserved']);
    expect(await inboxCount(world.db, confirmed.id)).toBe(1);
  });
});

describe('poison messages', () => {
  it('when a message is not a valid event, it goes to the dead-letter queue and the next good event is still processed', async () => {
    const product = await createProductWithStock(world.db, 3);
    const orderId = newOrderId();
    const dlqBefore = world.deadLettered.length;

    await world.publishRaw('order.created', '{ not json');
    await world.publishRaw(
      'order.created',
      JSON.stringify({ specversion: '1.0', type: 'OrderCreated', data: {} }),
    );
    await world.publish(orderCreated(orderId, [{ product_id: product, quantity: 1 }]));

    await eventually(() => world.deadLettered.length === dlqBefore + 2, {
      description: 'both poison messages dead-lettered',
    });
    await eventually(() => inventoryFor(world, orderId).length === 1, {
      description: 'good event processed',
    });
    expect(world.deadLettered.slice(dlqBefore).map((m) => m.content.toString())).toContain('{ not json');
    expect(await stockOf(world.db, product)).toBe(2);
  });
});
