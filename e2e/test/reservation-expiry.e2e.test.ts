import request from 'supertest';
import { eventually } from '@shop/platform/testing';
import { startSystem, type RunningSystem } from './support/system';

/**
 * SPEC §4 through the gateway, the whole saga: an order still pending ORDER_PENDING_TTL seconds after
 * it was placed is cancelled with reason `reservation_expired`, and the stock it held comes back once.
 */
describe('an order left pending gives its stock back (ORDER_PENDING_TTL)', () => {
  let system: RunningSystem;
  let user: string;
  let admin: string;

  beforeAll(async () => {
    system = await startSystem({ ORDER_PENDING_TTL: '2' });
    [user, admin] = await Promise.all([system.token(42), system.token(1, { admin: true })]);
  });
  afterAll(() => system?.stop());

  const api = () => request(system.url);
  const stockOf = async (productId: number) =>
    (await api().get(`/api/v1/products/${productId}`)).body.stock as number;
  const orderOf = async (orderId: number) =>
    (await api().get(`/api/v1/orders/${orderId}`).set('Authorization', `Bearer ${user}`)).body as {
      status: string;
      cancel_reason: string | null;
    };
  const notificationsOf = async (orderId: number) =>
    (await api().get(`/api/v1/notifications?order_id=${orderId}`).set('Authorization', `Bearer ${admin}`))
      .body.items as { event_type: string; message: string }[];

  it('a pending order is cancelled when its time is up, its stock comes back once, and each step is notified once', async () => {
    const before = await stockOf(2);
    const placed = await api()
      .post('/api/v1/orders')
      .set('Authorization', `Bearer ${user}`)
      .send({ items: [{ product_id: 2, quantity: 3 }] });
    expect(placed.status).toBe(201);
    const orderId = placed.body.id as number;

    await eventually(async () => expect(await orderOf(orderId)).toMatchObject({ status: 'cancelled' }), {
      description: 'the order expired',
      timeoutMs: 20_000,
    });
    await eventually(async () => expect((await notificationsOf(orderId)).length).toBe(4), {
      description: 'the four steps notified',
    });
    // A marker order placed now takes the same paths: once its two notifications are in, a late
    // fifth for the expired order (a second release, say) would be in too.
    const marker = await api()
      .post('/api/v1/orders')
      .set('Authorization', `Bearer ${user}`)
      .send({ items: [{ product_id: 1, quantity: 1 }] });
    expect(marker.status).toBe(201);
    await eventually(async () => expect((await notificationsOf(marker.body.id as number)).length).toBe(2));

    expect(await orderOf(orderId)).toMatchObject({
      status: 'cancelled',
      cancel_reason: 'reservation_expired',
    });
    expect(await stockOf(2)).toBe(before);
    // Recorded in order (SPEC §6): the creation first, the release after the cancel that caused it.
    // The cancel and the reservation belong to two streams and may be recorded either way round.
    const steps = await notificationsOf(orderId);
    const types = steps.map((step) => step.event_type);
    expect([types[0], [...types.slice(1, 3)].sort(), types[3]]).toEqual([
      'OrderCreated',
      ['OrderStatusUpdated', 'StockReserved'],
      'StockReleased',
    ]);
    expect(steps.find((step) => step.event_type === 'OrderStatusUpdated')?.message).toBe(
      `Order #${orderId} status pending → cancelled (reason: reservation_expired)`,
    );
  });
});
