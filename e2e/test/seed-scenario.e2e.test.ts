import request from 'supertest';
import { startSystem, type RunningSystem } from './support/system';

/**
 * SPEC §4's seed scenario through the gateway, as a newcomer runs it by curl after `npm start`:
 * four happy cases and six error cases, on the three seeded products.
 */
describe('the seed scenario through the gateway', () => {
  let system: RunningSystem;
  let user: string;
  let admin: string;
  let orderId: number;

  beforeAll(async () => {
    system = await startSystem();
    user = await system.token(42);
    admin = await system.token(1, { admin: true });
  });
  afterAll(() => system?.stop());

  const api = () => request(system.url);
  const asUser = (token: string) => ({ Authorization: `Bearer ${token}` });

  it('ordering two mice and a keyboard answers 201 with total 205.48 and a Location', async () => {
    const res = await api()
      .post('/api/v1/orders')
      .set(asUser(user))
      .send({ items: [{ product_id: 1, quantity: 2 }, { product_id: 2, quantity: 1 }] });

    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ user_id: 42, status: 'pending', total_amount: '205.48', cancel_reason: null });
    expect(res.body.items).toEqual([
      expect.objectContaining({ product_id: 1, product_name: 'Wireless Mouse', product_price: '25.99', quantity: 2, subtotal: '51.98' }),
      expect.objectContaining({ product_id: 2, product_name: 'Mechanical Keyboard', product_price: '153.50', quantity: 1, subtotal: '153.50' }),
    ]);
    expect(res.headers.location).toBe(`/api/v1/orders/${res.body.id}`);
    orderId = res.body.id;
  });

  it('getting that order answers 200 with its items', async () => {
    const res = await api().get(`/api/v1/orders/${orderId}`).set(asUser(user));

    expect(res.status).toBe(200);
    expect(res.body.id).toBe(orderId);
    expect(res.body.items).toHaveLength(2);
  });

  it('listing my orders answers 200 with the order in the envelope', async () => {
    const res = await api().get('/api/v1/orders').set(asUser(user));

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ total: 1, limit: 20, offset: 0 });
    expect(res.body.items[0].id).toBe(orderId);
  });

  it('an admin confirming the pending order answers 200 confirmed', async () => {
    const res = await api().patch(`/api/v1/orders/${orderId}/status`).set(asUser(admin)).send({ status: 'confirmed' });

    expect(res.status).toBe(200);
    expect(res.body.status).toBe('confirmed');
  });

  it('ordering product 999 answers 404 product_not_found', async () => {
    const res = await api().post('/api/v1/orders').set(asUser(user)).send({ items: [{ product_id: 999, quantity: 1 }] });

    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe('product_not_found');
  });

  it('ordering ten USB-C hubs when five are in stock answers 400 insufficient_stock', async () => {
    const res = await api().post('/api/v1/orders').set(asUser(user)).send({ items: [{ product_id: 3, quantity: 10 }] });

    expect(res.status).toBe(400);
    expect(res.body.code).toBe('insufficient_stock');
    expect(JSON.stringify(res.body)).toContain('"available":5');
  });

  it('getting order 999999 answers 404 order_not_found', async () => {
    const res = await api().get('/api/v1/orders/999999').set(asUser(user));

    expect(res.status).toBe(404);
    expect(res.body.code).toBe('order_not_found');
  });

  it('moving a delivered order back to shipped answers 400 invalid_status_transition', async () => {
    const placed = await api().post('/api/v1/orders').set(asUser(user)).send({ items: [{ product_id: 1, quantity: 1 }] });
    for (const status of ['confirmed', 'shipped', 'delivered']) {
      const step = await api().patch(`/api/v1/orders/${placed.body.id}/status`).set(asUser(admin)).send({ status });
      expect(step.status).toBe(200);
    }

    const res = await api().patch(`/api/v1/orders/${placed.body.id}/status`).set(asUser(admin)).send({ status: 'shipped' });

    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_status_transition');
  });

  it('an order with no items answers 422 validation_error naming items', async () => {
    const res = await api().post('/api/v1/orders').set(asUser(user)).send({ items: [] });

    expect(res.status).toBe(422);
    expect(res.body.code).toBe('validation_error');
    expect(res.body.errors[0].path).toBe('items');
  });

  it('a quantity of 0 answers 422 validation_error naming the quantity', async () => {
    const res = await api().post('/api/v1/orders').set(asUser(user)).send({ items: [{ product_id: 1, quantity: 0 }] });

    expect(res.status).toBe(422);
    expect(res.body.errors[0].path).toBe('items.0.quantity');
  });
});

describe('who may see and change an order, through the gateway', () => {
  let system: RunningSystem;
  let owner: string;
  let stranger: string;
  let admin: string;
  let orderId: number;

  beforeAll(async () => {
    system = await startSystem();
    [owner, stranger, admin] = await Promise.all([system.token(7), system.token(8), system.token(1, { admin: true })]);
    const placed = await request(system.url)
      .post('/api/v1/orders')
      .set('Authorization', `Bearer ${owner}`)
      .send({ items: [{ product_id: 1, quantity: 1 }] });
    orderId = placed.body.id;
  });
  afterAll(() => system?.stop());

  const api = () => request(system.url);

  it('without a token, the orders API answers 401 unauthorized', async () => {
    const res = await api().get('/api/v1/orders');

    expect(res.status).toBe(401);
    expect(res.body.code).toBe('unauthorized');
  });

  it('products are readable without a token', async () => {
    const res = await api().get('/api/v1/products');

    expect(res.status).toBe(200);
    expect(res.body.items.map((product: { name: string }) => product.name)).toEqual([
      'Wireless Mouse',
      'Mechanical Keyboard',
      'USB-C Hub',
    ]);
  });

  it("another user's order answers 404, as if it did not exist", async () => {
    const res = await api().get(`/api/v1/orders/${orderId}`).set('Authorization', `Bearer ${stranger}`);

    expect(res.status).toBe(404);
    expect(res.body.code).toBe('order_not_found');
  });

  it("another user's order is not in their list", async () => {
    const res = await api().get('/api/v1/orders').set('Authorization', `Bearer ${stranger}`);

    expect(res.body.total).toBe(0);
  });

  it('an owner confirming their own order answers 403 forbidden', async () => {
    const res = await api()
      .patch(`/api/v1/orders/${orderId}/status`)
      .set('Authorization', `Bearer ${owner}`)
      .send({ status: 'confirmed' });

    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
  });

  it("an admin lists another user's orders with user_id", async () => {
    const res = await api().get('/api/v1/orders?user_id=7').set('Authorization', `Bearer ${admin}`);

    expect(res.status).toBe(200);
    expect(res.body.items.map((order: { id: number }) => order.id)).toEqual([orderId]);
  });

  it('a user cannot create a product; an admin can', async () => {
    const body = { name: 'Webcam', price: '59.90', stock: 3 };

    const denied = await api().post('/api/v1/products').set('Authorization', `Bearer ${owner}`).send(body);
    const created = await api().post('/api/v1/products').set('Authorization', `Bearer ${admin}`).send(body);

    expect(denied.status).toBe(403);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Webcam', price: '59.90', stock: 3 });
  });
});
