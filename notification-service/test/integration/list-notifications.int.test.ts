import request from 'supertest';
import type { NotificationList, Problem } from '@shop/contracts';
import { NotificationList as NotificationListSchema } from '@shop/contracts';
import { buildOrderCreated, buildOrderStatusUpdated, buildStockReservationFailed, buildStockReserved, newOrderId } from '@shop/platform/testing';
import { buildTestApp, tokenFor, type TestApp } from '../support/build-app';

describe('GET /api/v1/notifications', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  /** Each test uses its own users, so what other tests record never shows up in its lists. */
  let nextUser = 5_000;
  const newUser = () => nextUser++;

  const list = async (query: string, token: string) =>
    request(t.app).get(`/api/v1/notifications${query}`).set('Authorization', `Bearer ${token}`);

  it('without a token it answers 401 problem+json', async () => {
    const response = await request(t.app).get('/api/v1/notifications');

    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((response.body as Problem).code).toBe('unauthorized');
  });

  it("a user sees only notifications about their own orders, including inventory events for them", async () => {
    // Arrange
    const [me, someoneElse] = [newUser(), newUser()];
    const mine = newOrderId();
    const theirs = newOrderId();
    await t.record(
      buildOrderCreated({ order_id: mine, user_id: me }),
      buildStockReserved({ order_id: mine }),
      buildOrderCreated({ order_id: theirs, user_id: someoneElse }),
    );

    // Act
    const response = await list('', await tokenFor(me));

    // Assert
    expect(response.status).toBe(200);
    const body = NotificationListSchema.parse(response.body);
    expect(body.items.map((item) => [item.event_type, item.order_id, item.user_id])).toEqual([
      ['OrderCreated', mine, me],
      ['StockReserved', mine, me],
    ]);
    expect(body.total).toBe(2);
  });

  it("a user asking for someone else's order gets an empty list, not their notifications", async () => {
    const [me, someoneElse] = [newUser(), newUser()];
    const theirs = newOrderId();
    await t.record(buildOrderCreated({ order_id: theirs, user_id: someoneElse }));

    const response = await list(`?order_id=${theirs}`, await tokenFor(me));

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ items: [], total: 0, limit: 20, offset: 0 });
  });

  it('an admin sees every notification, including ones with no known user', async () => {
    const orphanOrder = newOrderId();
    const orphan = buildStockReservationFailed({ order_id: orphanOrder });
    const created = buildOrderCreated({ user_id: newUser() });
    await t.record(orphan, created);

    const response = await list('', await tokenFor(1, ['admin']));

    expect(response.status).toBe(200);
    const ids = (response.body as NotificationList).items.map((item) => item.event_id);
    expect(ids).toEqual(expect.arrayContaining([orphan.id, created.id]));
    const orphanItem = (response.body as NotificationList).items.find((item) => item.event_id === orphan.id);
    expect(orphanItem).toMatchObject({ user_id: null, order_id: orphanOrder, event_type: 'StockReservationFailed' });
  });

  it('order_id and type narrow the list, and every item has the contract shape', async () => {
    // Arrange
    const user = newUser();
    const orderId = newOrderId();
    const created = buildOrderCreated({ order_id: orderId, user_id: user, created_at: '2026-01-01T10:00:00.000Z' });
    const confirmed = buildOrderStatusUpdated(
      { order_id: orderId, user_id: user, from_status: 'pending', to_status: 'confirmed' },
    );
    await t.record(created, confirmed, buildOrderCreated({ user_id: user }));

    // Act
    const byOrder = await list(`?order_id=${orderId}`, await tokenFor(1, ['admin']));
    const byOrderAndType = await list(`?order_id=${orderId}&type=OrderStatusUpdated`, await tokenFor(user));

    // Assert
    expect(NotificationListSchema.parse(byOrder.body).items.map((item) => item.event_id)).toEqual([created.id, confirmed.id]);
    const narrowed = NotificationListSchema.parse(byOrderAndType.body);
    expect(narrowed.total).toBe(1);
    expect(narrowed.items[0]).toEqual({
      id: expect.any(Number),
      event_id: confirmed.id,
      event_type: 'OrderStatusUpdated',
      order_id: orderId,
      user_id: user,
      message: `Order #${orderId} status pending → confirmed`,
      occurred_at: confirmed.time,
      created_at: expect.any(String),
    });
  });

  it('limit and offset page through the list, and total counts all matches', async () => {
    const user = newUser();
    const events = [1, 2, 3].map(() => buildOrderCreated({ user_id: user }));
    for (const [index, event] of events.entries()) event.time = new Date(Date.UTC(2026, 0, 1, 12, index)).toISOString();
    await t.record(...events);

    const response = await list('?limit=2&offset=1', await tokenFor(user));

    expect(response.body).toMatchObject({ total: 3, limit: 2, offset: 1 });
    expect((response.body as NotificationList).items.map((item) => item.event_id)).toEqual([events[1].id, events[2].id]);
  });

  it('a page past the end is empty and still reports how many match', async () => {
    const user = newUser();
    await t.record(buildOrderCreated({ user_id: user }), buildOrderCreated({ user_id: user }));

    const response = await list('?limit=2&offset=5', await tokenFor(user));

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ items: [], total: 2, limit: 2, offset: 5 });
  });

  it('an invalid query answers 422 validation_error with query.-prefixed paths', async () => {
    const response = await list('?limit=0&type=OrderTeleported&order_id=abc', await tokenFor(newUser()));

    expect(response.status).toBe(422);
    const problem = response.body as Problem;
    expect(problem.code).toBe('validation_error');
    expect(problem.errors?.map((error) => error.path).sort()).toEqual(['query.limit', 'query.order_id', 'query.type']);
  });

  it('recording the same event twice keeps one notification', async () => {
    const user = newUser();
    const event = buildOrderCreated({ user_id: user });

    await t.record(event, event);

    const response = await list('', await tokenFor(user));
    expect((response.body as NotificationList).items.map((item) => item.event_id)).toEqual([event.id]);
  });

  it('/health answers 200 degraded while only the broker is down (it is not critical)', async () => {
    const response = await request(t.app).get('/health');

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'degraded', checks: { database: { status: 'up' }, broker: { status: 'down' } } });
  });
});
