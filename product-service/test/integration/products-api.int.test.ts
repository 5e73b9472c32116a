import request from 'supertest';
import { adminToken, buildProductBody, buildTestApp, userToken, type TestApp } from '../support/build-app';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t?.close());

async function createViaApi(overrides: Record<string, unknown> = {}) {
  const response = await request(t.app)
    .post('/api/v1/products')
    .set('Authorization', `Bearer ${await adminToken()}`)
    .send(buildProductBody(overrides))
    .expect(201);
  return response.body as { id: number; name: string; price: string; stock: number };
}

describe('reading the catalogue', () => {
  it('when a product exists, getting it answers 200 with the contract shape', async () => {
    const created = await createViaApi({ price: 25.9, stock: 7, description: null });

    const response = await request(t.app).get(`/api/v1/products/${created.id}`).expect(200);

    expect(response.body).toEqual({
      id: created.id,
      name: created.name,
      description: null,
      price: '25.90',
      stock: 7,
      created_at: expect.stringMatching(/Z$/),
      updated_at: expect.stringMatching(/Z$/),
    });
  });

  it('when the product does not exist, getting it answers 404 product_not_found as problem+json', async () => {
    const response = await request(t.app).get('/api/v1/products/999999').expect(404);

    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 404, code: 'product_not_found' });
  });

  it.each(['abc', '1.5', '-1', '0', '99999999999'])(
    'when the id is %s, getting it answers 404 product_not_found',
    async (id) => {
      const response = await request(t.app).get(`/api/v1/products/${id}`).expect(404);

      expect(response.body.code).toBe('product_not_found');
    },
  );

  it('when ids are given, the list holds exactly the known ones among them and unknown ids are absent', async () => {
    const a = await createViaApi();
    const b = await createViaApi();

    const response = await request(t.app).get(`/api/v1/products?ids=${b.id},${a.id},987654`).expect(200);

    expect(response.body.items.map((p: { id: number }) => p.id)).toEqual([a.id, b.id]);
    expect(response.body).toMatchObject({ total: 2, limit: 20, offset: 0 });
  });

  it('when limit and offset are given, the list is that page of the catalogue in id order with the full total', async () => {
    const ids = [(await createViaApi()).id, (await createViaApi()).id, (await createViaApi()).id];

    const response = await request(t.app)
      .get(`/api/v1/products?ids=${ids.join(',')}&limit=2&offset=1`)
      .expect(200);

    expect(response.body).toMatchObject({ total: 3, limit: 2, offset: 1 });
    expect(response.body.items.map((p: { id: number }) => p.id)).toEqual([ids[1], ids[2]]);
  });

  it('when the whole catalogue is listed without a token, it answers 200 with every product counted', async () => {
    await createViaApi();

    const response = await request(t.app).get('/api/v1/products?limit=100').expect(200);

    expect(response.body.total).toBe(response.body.items.length);
    expect(response.body.total).toBeGreaterThan(0);
  });

  it.each([
    ['ids=1,x', 'query.ids'],
    ['limit=0', 'query.limit'],
    ['limit=101', 'query.limit'],
    ['offset=-1', 'query.offset'],
  ])('when the query is %s, listing answers 422 naming %s', async (query, path) => {
    const response = await request(t.app).get(`/api/v1/products?${query}`).expect(422);

    expect(response.body.code).toBe('validation_error');
    expect(response.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });
});

describe('changing the catalogue', () => {
  it('when an admin creates a product, it answers 201 with Location and the product can be read back', async () => {
    const response = await request(t.app)
      .post('/api/v1/products')
      .set('Authorization', `Bearer ${await adminToken()}`)
      .send(buildProductBody({ name: 'Desk Lamp', price: '19.99', stock: 3 }))
      .expect(201);

    expect(response.headers.location).toBe(`/api/v1/products/${response.body.id}`);
    expect(response.body).toMatchObject({ name: 'Desk Lamp', price: '19.99', stock: 3 });
    await request(t.app).get(response.headers.location).expect(200);
  });

  it('when an admin patches a product, only the given fields change', async () => {
    const created = await createViaApi({ name: 'Old name', price: '10.00', stock: 4 });

    const response = await request(t.app)
      .patch(`/api/v1/products/${created.id}`)
      .set('Authorization', `Bearer ${await adminToken()}`)
      .send({ price: '11.25', stock: 9 })
      .expect(200);

    expect(response.body).toMatchObject({ id: created.id, name: 'Old name', price: '11.25', stock: 9 });
  });

  it('when an admin patches a product that does not exist, it answers 404 product_not_found', async () => {
    const response = await request(t.app)
      .patch('/api/v1/products/999998')
      .set('Authorization', `Bearer ${await adminToken()}`)
      .send({ stock: 1 })
      .expect(404);

    expect(response.body.code).toBe('product_not_found');
  });

  it('when there is no token, creating answers 401 unauthorized', async () => {
    const response = await request(t.app).post('/api/v1/products').send(buildProductBody()).expect(401);

    expect(response.body.code).toBe('unauthorized');
  });

  it('when the token is not valid, patching answers 401 unauthorized', async () => {
    const response = await request(t.app)
      .patch('/api/v1/products/1')
      .set('Authorization', 'Bearer not-a-token')
      .send({ stock: 1 })
      .expect(401);

    expect(response.body.code).toBe('unauthorized');
  });

  it('when the caller is not an admin, creating answers 403 forbidden and nothing is created', async () => {
    const name = `forbidden ${Date.now()}`;
    const response = await request(t.app)
      .post('/api/v1/products')
      .set('Authorization', `Bearer ${await userToken()}`)
      .send(buildProductBody({ name }))
      .expect(403);

    expect(response.body.code).toBe('forbidden');
    expect(await t.db.selectFrom('products').select('id').where('name', '=', name).execute()).toEqual([]);
  });
});

describe('bad input', () => {
  const post = async (body: string | object, contentType = 'application/json') =>
    request(t.app)
      .post('/api/v1/products')
      .set('Authorization', `Bearer ${await adminToken()}`)
      .set('Content-Type', contentType)
      .send(typeof body === 'string' ? body : JSON.stringify(body));

  it('when the body is not JSON, creating answers 400 malformed_json', async () => {
    const response = await post('{"name": ');

    expect(response.status).toBe(400);
    expect(response.body.code).toBe('malformed_json');
  });

  it('when the body has an unknown field, creating answers 422 naming it', async () => {
    const response = await post(buildProductBody({ colour: 'red' }));

    expect(response.status).toBe(422);
    expect(response.body.errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: expect.any(String) })]),
    );
    expect(JSON.stringify(response.body.errors)).toContain('colour');
  });

  it.each([
    [{ price: '-1.00' }, 'price'],
    [{ price: '0' }, 'price'],
    [{ price: '1.999' }, 'price'],
    [{ price: 1.999 }, 'price'],
    [{ stock: -1 }, 'stock'],
    [{ stock: 1.5 }, 'stock'],
    [{ name: '' }, 'name'],
  ])('when the body is %j, creating answers 422 with errors[].path %s', async (overrides, path) => {
    const response = await post(buildProductBody(overrides));

    expect(response.status).toBe(422);
    expect(response.body.code).toBe('validation_error');
    expect(response.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it('when a patch sets a negative stock, it answers 422 and the stock is unchanged', async () => {
    const created = await createViaApi({ stock: 5 });

    const response = await request(t.app)
      .patch(`/api/v1/products/${created.id}`)
      .set('Authorization', `Bearer ${await adminToken()}`)
      .send({ stock: -3 })
      .expect(422);

    expect(response.body.errors[0].path).toBe('stock');
    expect(
      await t.db
        .selectFrom('products')
        .select('stock')
        .where('id', '=', created.id)
        .executeTakeFirstOrThrow(),
    ).toEqual({ stock: 5 });
  });

  it('when a patch is empty, it answers 422', async () => {
    const created = await createViaApi();

    await request(t.app)
      .patch(`/api/v1/products/${created.id}`)
      .set('Authorization', `Bearer ${await adminToken()}`)
      .send({})
      .expect(422);
  });

  it('when the body is larger than the limit, creating answers 413 payload_too_large', async () => {
    const response = await post(buildProductBody({ description: 'x'.repeat(100 * 1024) }));

    expect(response.status).toBe(413);
    expect(response.body.code).toBe('payload_too_large');
  });

  it('when the body is not sent as JSON, creating answers 415', async () => {
    const response = await post('name=x', 'text/plain');

    expect(response.status).toBe(415);
  });
});

describe('health', () => {
  it('when database and broker answer, /health is 200 ok with both checks', async () => {
    const response = await request(t.app).get('/health').expect(200);

    expect(response.body).toMatchObject({
      status: 'ok',
      checks: { database: { status: 'up' }, broker: { status: 'up' } },
    });
  });
});
