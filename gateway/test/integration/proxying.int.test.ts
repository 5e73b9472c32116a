import { bearer, startTestGateway, type TestGateway } from '../support/gateway';

describe('gateway: what it forwards', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(() => t.close());
  beforeEach(() => {
    t.orders.received.length = 0;
    t.products.received.length = 0;
  });

  it('when the caller sends no X-Request-Id, one is generated, returned and forwarded to the service', async () => {
    const response = await fetch(`${t.url}/api/v1/products`);

    const requestId = response.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(t.products.received[0].headers['x-request-id']).toBe(requestId);
  });

  it("when the caller sends an X-Request-Id, the same id is returned and forwarded", async () => {
    const response = await fetch(`${t.url}/api/v1/products/1`, { headers: { 'x-request-id': 'trace-abc.123' } });

    expect(response.headers.get('x-request-id')).toBe('trace-abc.123');
    expect(t.products.received[0].headers['x-request-id']).toBe('trace-abc.123');
  });

  it('a POSTed JSON body arrives at the service byte for byte, with its content type', async () => {
    const body = '{ "items" : [ {"product_id":1, "quantity":2},{"product_id":2,"quantity":1} ], "note":"caf\u00e9 \u2603"}\n';
    const authorization = await bearer(42);

    const response = await fetch(`${t.url}/api/v1/orders`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json; charset=utf-8', 'idempotency-key': 'k-1' },
      body,
    });

    expect(response.status).toBe(200);
    const [received] = t.orders.received;
    expect(received.method).toBe('POST');
    expect(received.body.equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(received.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(received.headers['idempotency-key']).toBe('k-1');
  });

  it('a body the gateway cannot parse is still passed on untouched (the service judges it)', async () => {
    const authorization = await bearer(42);

    await fetch(`${t.url}/api/v1/orders`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: '{not json',
    });

    expect(t.orders.received[0].body.toString()).toBe('{not json');
  });

  it('responses carry security headers from helmet', async () => {
    const response = await fetch(`${t.url}/api/v1/products`);

    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-powered-by')).toBeNull();
  });

  it('an unknown route answers 404 problem+json', async () => {
    const response = await fetch(`${t.url}/api/v1/users`);

    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('a path that only starts like a service prefix is not proxied', async () => {
    const response = await fetch(`${t.url}/api/v1/productsXYZ`);

    expect(response.status).toBe(404);
    expect(t.products.received).toHaveLength(0);
  });
});
