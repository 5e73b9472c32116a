import request from 'supertest';
import { eventually } from '@shop/platform/testing';
import { startSystem, type RunningSystem } from './support/system';

/**
 * The event flow a user sees through the gateway: placing an order reserves its stock through
 * RabbitMQ, cancelling it gives the stock back, and the notification service records each event once.
 */
describe('orders, stock and notifications through the gateway', () => {
  let system: RunningSystem;
  let user: string;
  let admin: string;

  beforeAll(async () => {
    system = await startSystem();
    [user, admin] = await Promise.all([system.token(42), system.token(1, { admin: true })]);
  });
  afterAll(() => system?.stop());

  const api = () => request(system.url);
  const stockOf = async (productId: number) => (await api().get(`/api/v1/products/${productId}`)).body.stock as number;
  const notificationsOf = async (orderId: number, token = admin) =>
    (await api().get(`/api/v1/notifications?order_id=${orderId}`).set('Authorization', `Bearer ${token}`)).body
      .items as { event_type: string; message: string }[];

  it('placing an order decrements stock once, cancelling restores it, and each event is notified once', async () => {
    const placed = await api()
      .post('/api/v1/orders')
      .set('Authorization', `Bearer ${user}`)
      .send({ items: [{ product_id: 1, quantity: 2 }, { product_id: 2, quantity: 1 }] });
    expect(placed.status).toBe(201);
    const orderId = placed.body.id as number;

    await eventually(async () => expect([await stockOf(1), await stockOf(2)]).toEqual([98, 49]));

    const cancelled = await api()
      .patch(`/api/v1/orders/${orderId}/status`)
      .set('Authorization', `Bearer ${user}`)
      .send({ status: 'cancelled', reason: 'changed my mind' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', cancel_reason: 'changed my mind' });

    await eventually(async () => expect([await stockOf(1), await stockOf(2)]).toEqual([100, 50]));
    await eventually(async () => expect((await notificationsOf(orderId)).length).toBeGreaterThanOrEqual(4));
    // A marker order takes the same paths (order outbox, product saga, both exchanges) after the
    // four: once its notifications are in, any fifth one for the first order would be too.
    const marker = await api()
      .post('/api/v1/orders')
      .set('Authorization', `Bearer ${user}`)
      .send({ items: [{ product_id: 1, quantity: 1 }] });
    expect(marker.status).toBe(201);
    await eventually(async () =>
      expect((await notificationsOf(marker.body.id)).map((item) => item.event_type).sort()).toEqual([
        'OrderCreated',
        'StockReserved',
      ]),
    );
    const notifications = await notificationsOf(orderId);
    expect(notifications.map((item) => item.event_type).sort()).toEqual([
      'OrderCreated',
      'OrderStatusUpdated',
      'StockReleased',
      'StockReserved',
    ]);
    expect(notifications.find((item) => item.event_type === 'OrderCreated')?.message).toBe(
      `Order #${orderId} for user 42 created: 2 items, total 205.48`,
    );
    const ownView = await notificationsOf(orderId, user);
    expect(ownView).toHaveLength(4);
  });

  it('of two orders for the last five hubs, one keeps them and the other is cancelled for insufficient stock', async () => {
    const order = () =>
      api()
        .post('/api/v1/orders')
        .set('Authorization', `Bearer ${user}`)
        .send({ items: [{ product_id: 3, quantity: 5 }] });

    const [first, second] = await Promise.all([order(), order()]);
    expect([first.status, second.status]).toEqual([201, 201]);

    const statuses = await eventually(async () => {
      const orders = await Promise.all(
        [first.body.id, second.body.id].map(
          async (id: number) => (await api().get(`/api/v1/orders/${id}`).set('Authorization', `Bearer ${user}`)).body,
        ),
      );
      return orders.some((o) => o.status === 'cancelled') && orders;
    });
    const cancelled = statuses.filter((o) => o.status === 'cancelled');
    const kept = statuses.filter((o) => o.status === 'pending');
    expect(cancelled).toHaveLength(1);
    expect(kept).toHaveLength(1);
    expect(cancelled[0].cancel_reason).toBe('insufficient_stock');
    expect(await stockOf(3)).toBe(0);
  });
});
