import request from 'supertest';
import { Order, OrderList, Problem } from '@shop/contracts';
import {
  adminBearer,
  bearer,
  buildOrderBody,
  createOrderWorld,
  newUserId,
  type OrderWorld,
} from '../support/order-world';

describe('orders over REST (SPEC §4 seed scenario)', () => {
  let world: OrderWorld;
  beforeAll(async () => {
    world = await createOrderWorld();
  });
  afterAll(() => world.teardown());

  const placeOrder = async (auth: string, body: unknown = buildOrderBody()) =>
    request(world.app)
      .post('/api/v1/orders')
      .set('Authorization', auth)
      .send(body as object);
  const changeStatus = async (auth: string, id: number | string, body: unknown) =>
    request(world.app)
      .patch(`/api/v1/orders/${id}/status`)
      .set('Authorization', auth)
      .send(body as object);

  test('when a user orders 2 × product 1 and 1 × product 2, it answers 201 with total "205.48" and a Location', async () => {
    // Arrange
    const auth = await bearer(newUserId());

    // Act
    const response = await placeOrder(auth);

    // Assert
    expect(response.status).toBe(201);
    const order = Order.parse(response.body);
    expect(order.total_amount).toBe('205.48');
    expect(order.status).toBe('pending');
    expect(order.cancel_reason).toBeNull();
    expect(order.items).toEqual([
      expect.objectContaining({
        product_id: 1,
        product_name: 'Wireless Mouse',
        product_price: '25.99',
        quantity: 2,
        subtotal: '51.98',
      }),
      expect.objectContaining({
        product_id: 2,
        product_name: 'Mechanical Keyboard',
        product_price: '153.50',
        quantity: 1,
        subtotal: '153.50',
      }),
    ]);
    expect(response.headers.location).toBe(`/api/v1/orders/${order.id}`);
  });

  test('placing an order asks the product service once, for all its products', async () => {
    const auth = await bearer(newUserId());
    const before = world.stub.requests.length;

    await placeOrder(
      auth,
      buildOrderBody({
        items: [
          { product_id: 1, quantity: 1 },
          { product_id: 2, quantity: 1 },
          { product_id: 3, quantity: 1 },
        ],
      }),
    );

    expect(world.stub.requests.slice(before)).toEqual(['/api/v1/products?ids=1,2,3&limit=100']);
  });

  test('the order snapshots the product name and price: a later catalogue change does not alter it', async () => {
    const auth = await bearer(newUserId());
    const created = await placeOrder(auth, buildOrderBody({ items: [{ product_id: 3, quantity: 1 }] }));
    const original = world.stub.products.get(3)!;
    world.stub.products.set(3, { ...original, name: 'Renamed Hub', price: '1.00' });
    try {
      const fetched = await request(world.app)
        .get(`/api/v1/orders/${created.body.id}`)
        .set('Authorization', auth);
      expect(fetched.body.items[0]).toMatchObject({ product_name: 'USB-C Hub', product_price: '49.99' });
    } finally {
      world.stub.products.set(3, original);
    }
  });

  test('when the owner gets the order, it answers 200 with its items', async () => {
    const auth = await bearer(newUserId());
    const created = await placeOrder(auth);

    const response = await request(world.app)
      .get(`/api/v1/orders/${created.body.id}`)
      .set('Authorization', auth);

    expect(response.status).toBe(200);
    expect(Order.parse(response.body)).toEqual(created.body);
  });

  test('when a user lists orders, it answers 200 with only their own orders, with items, newest first', async () => {
    const userId = newUserId();
    const auth = await bearer(userId);
    const first = await placeOrder(auth);
    const second = await placeOrder(auth);
    await placeOrder(await bearer(newUserId()));

    const response = await request(world.app).get('/api/v1/orders').set('Authorization', auth);

    expect(response.status).toBe(200);
    const list = OrderList.parse(response.body);
    expect(list.total).toBe(2);
    expect(list.limit).toBe(20);
    expect(list.offset).toBe(0);
    expect(list.items.map((order) => order.id)).toEqual([second.body.id, first.body.id]);
    expect(list.items.every((order) => order.user_id === userId && order.items.length === 2)).toBe(true);
  });

  test('listing honours status, limit and offset', async () => {
    const auth = await bearer(newUserId());
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push((await placeOrder(auth)).body.id);
    await changeStatus(await adminBearer(), ids[0]!, { status: 'confirmed' });

    const pending = await request(world.app)
      .get('/api/v1/orders?status=pending&limit=1&offset=1')
      .set('Authorization', auth);
    const confirmed = await request(world.app)
      .get('/api/v1/orders?status=confirmed')
      .set('Authorization', auth);

    expect(pending.body).toMatchObject({ total: 2, limit: 1, offset: 1 });
    expect(pending.body.items.map((order: Order) => order.id)).toEqual([ids[1]]);
    expect(confirmed.body.items.map((order: Order) => order.id)).toEqual([ids[0]]);
  });

  test('when an admin confirms a pending order, it answers 200 with the confirmed order', async () => {
    const created = await placeOrder(await bearer(newUserId()));

    const response = await changeStatus(await adminBearer(), created.body.id, { status: 'confirmed' });

    expect(response.status).toBe(200);
    expect(Order.parse(response.body)).toMatchObject({
      id: created.body.id,
      status: 'confirmed',
      total_amount: '205.48',
    });
  });

  test('when the order contains product 999, it answers 404 product_not_found and writes nothing', async () => {
    const userId = newUserId();
    const auth = await bearer(userId);

    const response = await placeOrder(auth, buildOrderBody({ items: [{ product_id: 999, quantity: 1 }] }));

    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(Problem.parse(response.body).code).toBe('product_not_found');
    expect(response.body.detail).toContain('999');
    const { rows } = await world.pool.query('SELECT 1 FROM orders WHERE user_id = $1', [userId]);
    expect(rows).toHaveLength(0);
  });

  test('when product 3 is ordered 10 times (stock 5), it answers 400 insufficient_stock listing the shortage', async () => {
    const auth = await bearer(newUserId());

    const response = await placeOrder(auth, buildOrderBody({ items: [{ product_id: 3, quantity: 10 }] }));

    expect(response.status).toBe(400);
    expect(response.body.code).toBe('insufficient_stock');
    expect(response.body.shortages).toEqual([{ product_id: 3, requested: 10, available: 5 }]);
  });

  test('when order 999999 is asked for, it answers 404 order_not_found', async () => {
    const response = await request(world.app)
      .get('/api/v1/orders/999999')
      .set('Authorization', await bearer(newUserId()));

    expect(response.status).toBe(404);
    expect(response.body.code).toBe('order_not_found');
  });

  test('when a delivered order is moved back to shipped, it answers 400 invalid_status_transition', async () => {
    const created = await placeOrder(await bearer(newUserId()));
    const admin = await adminBearer();
    for (const status of ['confirmed', 'shipped', 'delivered']) {
      expect((await changeStatus(admin, created.body.id, { status })).status).toBe(200);
    }

    const response = await changeStatus(admin, created.body.id, { status: 'shipped' });

    expect(response.status).toBe(400);
    expect(response.body.code).toBe('invalid_status_transition');
    const fetched = await request(world.app)
      .get(`/api/v1/orders/${created.body.id}`)
      .set('Authorization', admin);
    expect(fetched.body.status).toBe('delivered');
  });

  test('when items is empty, it answers 422 validation_error pointing at items', async () => {
    const response = await placeOrder(await bearer(newUserId()), { items: [] });

    expect(response.status).toBe(422);
    expect(response.body.code).toBe('validation_error');
    expect(response.body.errors).toEqual([expect.objectContaining({ path: 'items' })]);
  });

  test('when a quantity is 0, it answers 422 validation_error pointing at the quantity', async () => {
    const response = await placeOrder(await bearer(newUserId()), { items: [{ product_id: 1, quantity: 0 }] });

    expect(response.status).toBe(422);
    expect(response.body.errors).toEqual([expect.objectContaining({ path: 'items.0.quantity' })]);
  });

  test('when the owner cancels with a reason, the order is cancelled and keeps the reason', async () => {
    const auth = await bearer(newUserId());
    const created = await placeOrder(auth);

    const response = await changeStatus(auth, created.body.id, {
      status: 'cancelled',
      reason: 'changed my mind',
    });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'cancelled', cancel_reason: 'changed my mind' });
  });

  test('when two admins change the same order at once, exactly one change wins', async () => {
    const created = await placeOrder(await bearer(newUserId()));
    const admin = await adminBearer();

    const answers = await Promise.all([
      changeStatus(admin, created.body.id, { status: 'confirmed' }),
      changeStatus(admin, created.body.id, { status: 'confirmed' }),
      changeStatus(admin, created.body.id, { status: 'cancelled' }),
    ]);

    const statuses = answers.map((answer) => answer.status).sort();
    // The losers are told why (400), never a 500 from a lost race.
    expect(statuses.every((status) => status === 200 || status === 400)).toBe(true);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(1);
    const { rows } = await world.pool.query('SELECT version FROM orders WHERE id = $1', [created.body.id]);
    // Each successful change bumps the version once: no lost update.
    expect(rows[0].version).toBe(statuses.filter((status) => status === 200).length);
    // Two identical "confirmed" requests cannot both succeed.
    const confirmedOk = answers.filter((answer, i) => i < 2 && answer.status === 200).length;
    expect(confirmedOk).toBeLessThanOrEqual(1);
  });

  test('the route health answers 200 without a token', async () => {
    const response = await request(world.app).get('/api/v1/orders/health');

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok', service: 'order-service' });
  });

  test('the service health answers 200 with the database up', async () => {
    const response = await request(world.app).get('/health');

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'ok', checks: { database: { status: 'up' } } });
  });
});

describe('who may do what with orders', () => {
  let world: OrderWorld;
  beforeAll(async () => {
    world = await createOrderWorld();
  });
  afterAll(() => world.teardown());

  const placeOrderAs = async (userId: number) =>
    (
      await request(world.app)
        .post('/api/v1/orders')
        .set('Authorization', await bearer(userId))
        .send(buildOrderBody())
    ).body as Order;

  test.each([
    ['POST', '/api/v1/orders'],
    ['GET', '/api/v1/orders'],
    ['GET', '/api/v1/orders/1'],
    ['PATCH', '/api/v1/orders/1/status'],
  ])('without a token, %s %s answers 401 unauthorized', async (method, path) => {
    const response = await request(world.app)[method.toLowerCase() as 'get'](path);

    expect(response.status).toBe(401);
    expect(response.body.code).toBe('unauthorized');
  });

  test('with a token signed by another secret, it answers 401', async () => {
    const { signToken } = await import('@shop/platform');
    const forged = await signToken({ userId: 5, roles: ['admin'] }, 'a-completely-different-secret');

    const response = await request(world.app).get('/api/v1/orders').set('Authorization', `Bearer ${forged}`);

    expect(response.status).toBe(401);
  });

  test("another user's order answers 404 order_not_found, for reading and for changing", async () => {
    const order = await placeOrderAs(newUserId());
    const stranger = await bearer(newUserId());

    const read = await request(world.app).get(`/api/v1/orders/${order.id}`).set('Authorization', stranger);
    const cancel = await request(world.app)
      .patch(`/api/v1/orders/${order.id}/status`)
      .set('Authorization', stranger)
      .send({ status: 'cancelled' });

    expect(read.status).toBe(404);
    expect(read.body.code).toBe('order_not_found');
    expect(cancel.status).toBe(404);
    expect(cancel.body.code).toBe('order_not_found');
  });

  test('when the owner tries to confirm their order, it answers 403 forbidden and nothing changes', async () => {
    const ownerId = newUserId();
    const order = await placeOrderAs(ownerId);

    const response = await request(world.app)
      .patch(`/api/v1/orders/${order.id}/status`)
      .set('Authorization', await bearer(ownerId))
      .send({ status: 'confirmed' });

    expect(response.status).toBe(403);
    expect(response.body.code).toBe('forbidden');
    const { rows } = await world.pool.query('SELECT status FROM orders WHERE id = $1', [order.id]);
    expect(rows[0].status).toBe('pending');
  });

  test('an admin may read any order', async () => {
    const order = await placeOrderAs(newUserId());

    const response = await request(world.app)
      .get(`/api/v1/orders/${order.id}`)
      .set('Authorization', await adminBearer());

    expect(response.status).toBe(200);
  });

  test('an admin listing with ?user_id= sees exactly that user’s orders', async () => {
    const userId = newUserId();
    const mine = [await placeOrderAs(userId), await placeOrderAs(userId)];
    await placeOrderAs(newUserId());

    const response = await request(world.app)
      .get(`/api/v1/orders?user_id=${userId}`)
      .set('Authorization', await adminBearer());

    expect(response.status).toBe(200);
    expect(response.body.total).toBe(2);
    expect(response.body.items.map((order: Order) => order.id).sort()).toEqual(
      mine.map((order) => order.id).sort(),
    );
  });

  test('a user passing ?user_id= of someone else still sees only their own orders', async () => {
    const userId = newUserId();
    const victim = newUserId();
    await placeOrderAs(victim);
    const own = await placeOrderAs(userId);

    const response = await request(world.app)
      .get(`/api/v1/orders?user_id=${victim}`)
      .set('Authorization', await bearer(userId));

    expect(response.status).toBe(200);
    expect(response.body.items.map((order: Order) => order.id)).toEqual([own.id]);
  });

  test('the owner may not cancel a delivered order: 400 invalid_status_transition', async () => {
    const ownerId = newUserId();
    const order = await placeOrderAs(ownerId);
    const admin = await adminBearer();
    for (const status of ['confirmed', 'shipped', 'delivered']) {
      await request(world.app)
        .patch(`/api/v1/orders/${order.id}/status`)
        .set('Authorization', admin)
        .send({ status });
    }

    const response = await request(world.app)
      .patch(`/api/v1/orders/${order.id}/status`)
      .set('Authorization', await bearer(ownerId))
      .send({ status: 'cancelled' });

    expect(response.status).toBe(400);
    expect(response.body.code).toBe('invalid_status_transition');
  });
});
