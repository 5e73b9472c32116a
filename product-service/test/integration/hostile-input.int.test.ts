import request from 'supertest';
import { adminToken, buildProductBody, buildTestApp, type TestApp } from '../support/build-app';

/** SPEC §4: no client input answers 5xx — each mistake is a 4xx problem+json naming what is wrong. */
let t: TestApp;
let admin: string;
beforeAll(async () => {
  t = await buildTestApp();
  admin = `Bearer ${await adminToken()}`;
});
afterAll(() => t?.close());

const productCount = async () =>
  Number(
    (
      await t.db
        .selectFrom('products')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('client input the product service refuses with a 4xx', () => {
  it('when a product id is a bad percent-escape, getting it answers 400 bad_request', async () => {
    const res = await request(t.app).get('/api/v1/products/%ff');

    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('bad_request');
  });

  it('when a patched product id is a bad percent-escape, patching answers 400 bad_request', async () => {
    const res = await request(t.app)
      .patch('/api/v1/products/%e2%82')
      .set('Authorization', admin)
      .send({ stock: 1 });

    expect(res.status).toBe(400);
    expect(res.body.code).toBe('bad_request');
  });

  it.each([
    ['a name with a NUL', { name: 'Desk\u0000Lamp' }, 'name'],
    ['a name with a lone surrogate', { name: 'Desk Lamp \ud800' }, 'name'],
    ['a description with a NUL', { description: 'bright\u0000' }, 'description'],
    ['a description with a lone surrogate', { description: '\udfff' }, 'description'],
  ])(
    'when a new product has %s, creating answers 422 at that path and stores nothing',
    async (_what, overrides, path) => {
      const before = await productCount();

      const res = await request(t.app)
        .post('/api/v1/products')
        .set('Authorization', admin)
        .send(buildProductBody(overrides));

      expect(res.status).toBe(422);
      expect(res.body.code).toBe('validation_error');
      expect(res.body.errors.map((error: { path: string }) => error.path)).toEqual([path]);
      expect(await productCount()).toBe(before);
    },
  );

  it('when a patch puts a NUL into a description, it answers 422 and the product is unchanged', async () => {
    const created = await request(t.app)
      .post('/api/v1/products')
      .set('Authorization', admin)
      .send(buildProductBody())
      .expect(201);

    const res = await request(t.app)
      .patch(`/api/v1/products/${created.body.id}`)
      .set('Authorization', admin)
      .send({ description: 'a\u0000b' });

    expect(res.status).toBe(422);
    expect(res.body.errors[0].path).toBe('description');
    expect((await request(t.app).get(`/api/v1/products/${created.body.id}`)).body.description).toBe(
      created.body.description,
    );
  });

  it.each([
    ['DELETE', '/api/v1/products/1', 'GET, HEAD, PATCH'],
    ['PUT', '/api/v1/products', 'GET, HEAD, POST'],
    ['POST', '/health', 'GET, HEAD'],
    ['DELETE', '/metrics', 'GET, HEAD'],
  ])(
    'when %s is sent to %s, it answers 405 method_not_allowed with Allow: %s',
    async (method, path, allow) => {
      const verb = method.toLowerCase() as 'delete' | 'put' | 'post';
      const res = await request(t.app)[verb](path).set('Authorization', admin);

      expect(res.status).toBe(405);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers.allow).toBe(allow);
      expect(res.body.code).toBe('method_not_allowed');
    },
  );
});
