import type { Problem } from '@shop/contracts';
import { signToken } from '@shop/platform';
import { SECRET, bearer, startTestGateway, type TestGateway } from '../support/gateway';

describe('gateway: JWT at the edge', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(() => t.close());
  beforeEach(() => {
    for (const stub of [t.products, t.orders, t.notifications]) stub.received.length = 0;
  });

  const expectUnauthorizedProblem = async (response: Response) => {
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await response.json()) as Problem;
    expect(body).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(body.request_id).toBe(response.headers.get('x-request-id'));
  };

  it('when no token is sent, /api/v1/orders answers 401 problem+json and the order service sees nothing', async () => {
    const response = await fetch(`${t.url}/api/v1/orders`);

    await expectUnauthorizedProblem(response);
    expect(t.orders.received).toHaveLength(0);
  });

  it('when the token is signed with another secret, /api/v1/orders answers 401 before the order service', async () => {
    const forged = await signToken({ userId: 42 }, 'some-other-secret-0123456789');

    const response = await fetch(`${t.url}/api/v1/orders`, { headers: { authorization: `Bearer ${forged}` } });

    await expectUnauthorizedProblem(response);
    expect(t.orders.received).toHaveLength(0);
  });

  it('when the token has expired, /api/v1/orders answers 401 "expired" before the order service', async () => {
    const expired = await signToken({ userId: 42 }, SECRET, Math.floor(Date.now() / 1000) - 60);

    const response = await fetch(`${t.url}/api/v1/orders/7`, { headers: { authorization: `Bearer ${expired}` } });

    expect(response.status).toBe(401);
    expect(((await response.json()) as Problem).detail).toMatch(/expired/);
    expect(t.orders.received).toHaveLength(0);
  });

  it('when the Authorization header is not a bearer token, /api/v1/orders answers 401', async () => {
    const response = await fetch(`${t.url}/api/v1/orders`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });

    await expectUnauthorizedProblem(response);
    expect(t.orders.received).toHaveLength(0);
  });

  it('when the token is valid, the order request reaches the order service with the Authorization header unchanged', async () => {
    const authorization = await bearer(42);

    const response = await fetch(`${t.url}/api/v1/orders?status=pending&limit=5`, { headers: { authorization } });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ service: 'order-service', path: '/api/v1/orders?status=pending&limit=5' });
    expect(t.orders.received).toHaveLength(1);
    expect(t.orders.received[0].headers.authorization).toBe(authorization);
  });

  it('when no token is sent, /api/v1/notifications answers 401 and the notification service sees nothing', async () => {
    const response = await fetch(`${t.url}/api/v1/notifications?order_id=3`);

    await expectUnauthorizedProblem(response);
    expect(t.notifications.received).toHaveLength(0);
  });

  it('when the token is valid, notifications are proxied to the notification service with their query', async () => {
    const authorization = await bearer(7, ['admin']);

    const response = await fetch(`${t.url}/api/v1/notifications?order_id=3`, { headers: { authorization } });

    expect(response.status).toBe(200);
    expect(t.notifications.received.map((r) => [r.url, r.headers.authorization])).toEqual([
      ['/api/v1/notifications?order_id=3', authorization],
    ]);
  });

  it('product reads need no token and are proxied with their full path', async () => {
    const list = await fetch(`${t.url}/api/v1/products?ids=1,2`);
    const one = await fetch(`${t.url}/api/v1/products/3`);

    expect([list.status, one.status]).toEqual([200, 200]);
    expect(t.products.received.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /api/v1/products?ids=1,2',
      'GET /api/v1/products/3',
    ]);
  });

  it('when a product write comes without a token, it answers 401 and the product service sees nothing', async () => {
    const response = await fetch(`${t.url}/api/v1/products`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Lamp', price: '9.99' }),
    });

    await expectUnauthorizedProblem(response);
    expect(t.products.received).toHaveLength(0);
  });

  it('when a product write comes with a valid token, it is proxied (the product service decides about admin)', async () => {
    const authorization = await bearer(42);

    const response = await fetch(`${t.url}/api/v1/products/1`, {
      method: 'PATCH',
      headers: { authorization, 'content-type': 'application/json' },
      body: '{"stock":3}',
    });

    expect(response.status).toBe(200);
    expect(t.products.received.map((r) => [r.method, r.url, r.headers.authorization])).toEqual([
      ['PATCH', '/api/v1/products/1', authorization],
    ]);
  });

  it('the order route health check is public', async () => {
    const response = await fetch(`${t.url}/api/v1/orders/health`);

    expect(response.status).toBe(200);
    expect(t.orders.received.map((r) => r.url)).toEqual(['/api/v1/orders/health']);
  });
});
