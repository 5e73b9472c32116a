import request from 'supertest';
import {
  adminBearer,
  bearer,
  buildOrderBody,
  countRows,
  createOrderWorld,
  newUserId,
  type OrderWorld,
} from '../support/order-world';

/** Whatever a client sends, the answer is a 4xx problem — never a 500 — and nothing half-written stays. */
describe('placing and changing orders with bad input', () => {
  let world: OrderWorld;
  let auth: string;
  beforeAll(async () => {
    world = await createOrderWorld();
    auth = await bearer(newUserId());
  });
  afterAll(() => world.teardown());

  const tables = ['orders', 'order_items', 'outbox_events', 'idempotency_keys'] as const;
  const snapshot = async () => Promise.all(tables.map((table) => countRows(world.pool, table)));

  const postRaw = (body: string, contentType = 'application/json') =>
    request(world.app)
      .post('/api/v1/orders')
      .set('Authorization', auth)
      .set('Content-Type', contentType)
      .send(body);

  test.each([
    ['a body that is not JSON', '{"items": [', 400, 'malformed_json'],
    ['a JSON string instead of an object', '"items"', 400, 'malformed_json'],
    ['a JSON array', '[]', 422, 'validation_error'],
    ['null', 'null', 400, 'malformed_json'],
    ['an empty object', '{}', 422, 'validation_error'],
    ['items as a string', '{"items":"1,2"}', 422, 'validation_error'],
    ['a product id as a string', '{"items":[{"product_id":"1","quantity":1}]}', 422, 'validation_error'],
    ['a fractional quantity', '{"items":[{"product_id":1,"quantity":1.5}]}', 422, 'validation_error'],
    ['a negative quantity', '{"items":[{"product_id":1,"quantity":-3}]}', 422, 'validation_error'],
    ['a huge quantity', '{"items":[{"product_id":1,"quantity":1e12}]}', 422, 'validation_error'],
    ['a quantity above 1000', '{"items":[{"product_id":1,"quantity":1001}]}', 422, 'validation_error'],
    [
      'a product id beyond int range',
      '{"items":[{"product_id":99999999999,"quantity":1}]}',
      422,
      'validation_error',
    ],
    ['a product id of 0', '{"items":[{"product_id":0,"quantity":1}]}', 422, 'validation_error'],
    [
      'an unknown top-level field',
      '{"items":[{"product_id":1,"quantity":1}],"user_id":1}',
      422,
      'validation_error',
    ],
    [
      'an unknown item field',
      '{"items":[{"product_id":1,"quantity":1,"price":"0.01"}]}',
      422,
      'validation_error',
    ],
    [
      'a repeated product',
      '{"items":[{"product_id":1,"quantity":1},{"product_id":1,"quantity":2}]}',
      422,
      'validation_error',
    ],
    [
      'a __proto__ key',
      '{"items":[{"product_id":1,"quantity":1}],"__proto__":{"admin":true}}',
      422,
      'validation_error',
    ],
  ])('%s answers %i %s and writes nothing', async (_what, body, status, code) => {
    const before = await snapshot();

    const response = await postRaw(body);

    expect(response.status).toBe(status);
    expect(response.body.code).toBe(code);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(await snapshot()).toEqual(before);
  });

  test('an unknown item field is named by its path in errors[]', async () => {
    const response = await postRaw('{"items":[{"product_id":1,"quantity":1,"price":"0.01"}]}');

    expect(response.body.errors).toEqual([{ path: 'items.0.price', message: 'unknown field "price"' }]);
  });

  test('more than 100 items answers 422', async () => {
    const items = Array.from({ length: 101 }, (_, i) => ({ product_id: i + 1, quantity: 1 }));

    const response = await request(world.app)
      .post('/api/v1/orders')
      .set('Authorization', auth)
      .send({ items });

    expect(response.status).toBe(422);
  });

  test('a repeated product names the repeated line in errors[].path', async () => {
    const response = await request(world.app)
      .post('/api/v1/orders')
      .set('Authorization', auth)
      .send({
        items: [
          { product_id: 1, quantity: 1 },
          { product_id: 1, quantity: 2 },
        ],
      });

    expect(response.body.errors).toEqual([expect.objectContaining({ path: 'items.1.product_id' })]);
  });

  test('an oversized body answers 413 payload_too_large', async () => {
    const before = await snapshot();
    const body = JSON.stringify({ items: [{ product_id: 1, quantity: 1 }], padding: 'x'.repeat(200_000) });

    const response = await postRaw(body);

    expect(response.status).toBe(413);
    expect(response.body.code).toBe('payload_too_large');
    expect(await snapshot()).toEqual(before);
  });

  test('a body that is not sent as JSON answers 415', async () => {
    const response = await postRaw('items=1', 'application/x-www-form-urlencoded');

    expect(response.status).toBe(415);
  });

  test('no body at all answers 422', async () => {
    const response = await request(world.app).post('/api/v1/orders').set('Authorization', auth);

    expect(response.status).toBe(422);
  });

  test('a total beyond what an order may hold answers 422 and writes nothing', async () => {
    world.stub.products.set(50, {
      ...world.stub.products.get(1)!,
      id: 50,
      price: '99999999.99',
      stock: 1_000,
    });
    const before = await snapshot();

    const response = await request(world.app)
      .post('/api/v1/orders')
      .set('Authorization', auth)
      .send({ items: [{ product_id: 50, quantity: 1000 }] });

    expect(response.status).toBe(422);
    expect(await snapshot()).toEqual(before);
  });

  test.each(['abc', '0', '-1', '1.5', '1e3', '99999999999', '%20'])(
    'order id %p in a path answers 404 order_not_found',
    async (id) => {
      const read = await request(world.app).get(`/api/v1/orders/${id}`).set('Authorization', auth);
      const change = await request(world.app)
        .patch(`/api/v1/orders/${id}/status`)
        .set('Authorization', auth)
        .send({ status: 'cancelled' });

      expect(read.status).toBe(404);
      expect(read.body.code).toBe('order_not_found');
      expect(change.status).toBe(404);
      expect(change.body.code).toBe('order_not_found');
    },
  );

  test.each([
    ['an unknown status', { status: 'lost' }],
    ['a missing status', {}],
    ['an unknown field', { status: 'cancelled', note: 'x' }],
    ['a reason too long', { status: 'cancelled', reason: 'x'.repeat(201) }],
    ['a blank reason', { status: 'cancelled', reason: '   ' }],
  ])('changing the status with %s answers 422 and changes nothing', async (_what, body) => {
    const created = await request(world.app)
      .post('/api/v1/orders')
      .set('Authorization', auth)
      .send(buildOrderBody());
    const before = await snapshot();

    const response = await request(world.app)
      .patch(`/api/v1/orders/${created.body.id}/status`)
      .set('Authorization', await adminBearer())
      .send(body);

    expect(response.status).toBe(422);
    expect(response.body.code).toBe('validation_error');
    expect(await snapshot()).toEqual(before);
  });

  test.each([
    ['status=lost', 'query.status'],
    ['limit=0', 'query.limit'],
    ['limit=101', 'query.limit'],
    ['offset=-1', 'query.offset'],
    ['user_id=abc', 'query.user_id'],
  ])('listing with %s answers 422 pointing at %s', async (query, path) => {
    const response = await request(world.app).get(`/api/v1/orders?${query}`).set('Authorization', auth);

    expect(response.status).toBe(422);
    expect(response.body.errors).toEqual([expect.objectContaining({ path })]);
  });

  test('an unknown route answers 404 not_found', async () => {
    const response = await request(world.app).get('/api/v1/nothing-here');

    expect(response.status).toBe(404);
  });
});
