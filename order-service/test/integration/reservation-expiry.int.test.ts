import request from 'supertest';
import { QUEUES, type AnyEvent, type Order } from '@shop/contracts';
import { deliveryOutcomes, eventually } from '@shop/platform/testing';
import { adminBearer, bearer, buildOrderBody, newUserId } from '../support/order-world';
import { createServiceWorld, probeQueue, publishEvent, type ServiceWorld } from '../support/service-world';

/**
 * SPEC §4: an order still pending ORDER_PENDING_TTL seconds after it was placed is cancelled with
 * reason `reservation_expired` (its stock is then released by the stock saga, on the
 * OrderStatusUpdated). The timer is a scheduled outbox row (SPEC §6), published when due to the
 * order service's own queue.
 */
describe('reservation expiry (ORDER_PENDING_TTL)', () => {
  let world: ServiceWorld;
  let probe: Awaited<ReturnType<typeof probeQueue>>;
  beforeAll(async () => {
    // Long enough for a confirm to come first in the second test, short enough to wait for.
    world = await createServiceWorld({ ORDER_PENDING_TTL: '2' });
    await world.service.consuming(10_000);
    // The product service's queue: what the stock saga would receive.
    probe = await probeQueue(world.vhost.url, QUEUES.productOrders);
  });
  afterAll(async () => {
    await probe?.close();
    await world?.teardown();
  });

  const placeOrder = async () => {
    const response = await request(world.baseUrl)
      .post('/api/v1/orders')
      .set('Authorization', await bearer(newUserId()))
      .send(buildOrderBody());
    expect(response.status).toBe(201);
    return response.body as Order;
  };
  const orderRow = async (id: number) =>
    (await world.pool.query('SELECT status, cancel_reason FROM orders WHERE id = $1', [id])).rows[0];
  const statusUpdatesOf = (orderId: number) =>
    probe
      .bodies()
      .filter(
        (event) => event.type === 'OrderStatusUpdated' && event.data.order_id === orderId,
      ) as AnyEvent[];
  /** The order's timer once it is due and in the outbox (it moves there from scheduled_events). */
  const timerOf = (orderId: number) =>
    eventually(
      async () => {
        const { rows } = await world.pool.query<{ payload: AnyEvent }>(
          `SELECT payload FROM outbox_events WHERE aggregate_type = 'order_timer' AND aggregate_id = $1`,
          [String(orderId)],
        );
        return rows[0]?.payload ?? false;
      },
      { description: `the timer of order ${orderId} due`, timeoutMs: 15_000 },
    );
  const handled = (eventId: string, deliveries = 1) =>
    eventually(() => deliveryOutcomes(world.logs, eventId).length >= deliveries, {
      description: `${deliveries} deliveries of ${eventId} settled`,
    });

  test('an order still pending when its time is up is cancelled once, with reason reservation_expired', async () => {
    const order = await placeOrder();

    const timer = await timerOf(order.id);
    await handled(timer.id);

    expect(await orderRow(order.id)).toEqual({ status: 'cancelled', cancel_reason: 'reservation_expired' });
    await eventually(() => statusUpdatesOf(order.id).length === 1, { description: 'the cancel published' });
    const [cancelled] = statusUpdatesOf(order.id);
    expect(cancelled).toMatchObject({
      causationid: timer.id,
      sequence: 1,
      data: { from_status: 'pending', to_status: 'cancelled', reason: 'reservation_expired' },
    });
    expect(timer).toMatchObject({ type: 'OrderExpiryDue', source: '/order-service/timers' });
  });

  test('an order confirmed before its time is up is left confirmed when the timer comes', async () => {
    const order = await placeOrder();
    const confirm = await request(world.baseUrl)
      .patch(`/api/v1/orders/${order.id}/status`)
      .set('Authorization', await adminBearer())
      .send({ status: 'confirmed' });
    expect(confirm.status).toBe(200);

    const timer = await timerOf(order.id);
    await handled(timer.id);

    expect(deliveryOutcomes(world.logs, timer.id)).toEqual(['ignored']);
    expect(await orderRow(order.id)).toEqual({ status: 'confirmed', cancel_reason: null });
  });

  test('a timer delivered twice cancels the order once', async () => {
    const order = await placeOrder();
    const timer = await timerOf(order.id);
    await handled(timer.id);

    await publishEvent(world.vhost.url, timer);
    await handled(timer.id, 2);

    expect(deliveryOutcomes(world.logs, timer.id)).toEqual(['applied', 'duplicate']);
    await eventually(() => statusUpdatesOf(order.id).length >= 1);
    expect(statusUpdatesOf(order.id)).toHaveLength(1);
    expect(await orderRow(order.id)).toEqual({ status: 'cancelled', cancel_reason: 'reservation_expired' });
  });
});
