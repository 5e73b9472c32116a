import request from 'supertest';
import {
  bearer,
  buildOrderBody,
  countRows,
  createOrderWorld,
  newUserId,
  type OrderWorld,
} from '../support/order-world';

/** SPEC §4: no client input answers 5xx — each mistake is a 4xx problem+json naming what is wrong. */
describe('client input the order service refuses with a 4xx', () => {
  let world: OrderWorld;
  let owner: string;
  let orderId: number;
  beforeAll(async () => {
    world = await createOrderWorld();
    owner = await bearer(newUserId());
    orderId = (
      await request(world.app)
        .post('/api/v1/orders')
        .set('Authorization', owner)
        .send(buildOrderBody())
        .expect(201)
    ).body.id;
  });
  afterAll(() => world.teardown());

  const expectProblem = (res: request.Response, status: number, code: string) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe(code);
  };

  it('when an order id is a bad percent-escape, getting it answers 400 bad_request', async () => {
    expectProblem(
      await request(world.app).get('/api/v1/orders/%ff').set('Authorization', owner),
      400,
      'bad_request',
    );
  });

  it('when an order id is a bad percent-escape, changing its status answers 400 bad_request', async () => {
    const res = await request(world.app)
      .patch('/api/v1/orders/%c3%28%ff/status')
      .set('Authorization', owner)
      .send({ status: 'cancelled' });

    expectProblem(res, 400, 'bad_request');
  });

  it('when a body claims gzip but is not, placing an order answers 400 bad_request and writes nothing', async () => {
    const before = await countRows(world.pool, 'orders');

    const res = await request(world.app)
      .post('/api/v1/orders')
      .set('Authorization', owner)
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .send(JSON.stringify(buildOrderBody()));

    expectProblem(res, 400, 'bad_request');
    expect(await countRows(world.pool, 'orders')).toBe(before);
  });

  it.each([
    ['a NUL', 'changed my mind\u0000'],
    ['a lone surrogate', 'changed my mind \ud83d'],
  ])(
    'when a cancel reason holds %s, it answers 422 at reason and the order stays pending',
    async (_what, reason) => {
      const res = await request(world.app)
        .patch(`/api/v1/orders/${orderId}/status`)
        .set('Authorization', owner)
        .send({ status: 'cancelled', reason });

      expectProblem(res, 422, 'validation_error');
      expect(res.body.errors.map((error: { path: string }) => error.path)).toEqual(['reason']);
      expect(
        (await request(world.app).get(`/api/v1/orders/${orderId}`).set('Authorization', owner)).body.status,
      ).toBe('pending');
    },
  );

  it.each([
    ['DELETE', `/api/v1/orders/1`, 'GET, HEAD'],
    ['PUT', '/api/v1/orders', 'GET, HEAD, POST'],
    ['POST', '/api/v1/orders/1/status', 'PATCH'],
    ['DELETE', '/api/v1/orders/health', 'GET, HEAD'],
  ])(
    'when %s is sent to %s, it answers 405 method_not_allowed with Allow: %s',
    async (method, path, allow) => {
      const verb = method.toLowerCase() as 'delete' | 'put' | 'post';
      const res = await request(world.app)[verb](path).set('Authorization', owner);

      expectProblem(res, 405, 'method_not_allowed');
      expect(res.headers.allow).toBe(allow);
    },
  );
});
