import { bearer, startTestGateway, type TestGateway } from '../support/gateway';

describe('gateway: rate limits', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(() => t.close());

  it('when a user goes over the limit, the next request answers 429 rate_limited with Retry-After and is not proxied', async () => {
    const authorization = await bearer(101);
    for (let i = 0; i < 3; i++) {
      expect((await fetch(`${t.url}/api/v1/orders`, { headers: { authorization } })).status).toBe(200);
    }
    const before = t.orders.received.length;

    const response = await fetch(`${t.url}/api/v1/orders`, { headers: { authorization } });

    expect(response.status).toBe(429);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await response.json()).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(t.orders.received.length).toBe(before);
  });

  it('limits are per user: another user is not throttled by the first one', async () => {
    const heavy = await bearer(201);
    for (let i = 0; i < 4; i++) await fetch(`${t.url}/api/v1/orders`, { headers: { authorization: heavy } });

    const response = await fetch(`${t.url}/api/v1/orders`, { headers: { authorization: await bearer(202) } });

    expect(response.status).toBe(200);
  });

  it('anonymous callers are limited per address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${t.url}/api/v1/products`)).status);

    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('/health is never rate limited', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetch(`${t.url}/health`)).status);

    expect(statuses).toEqual([200, 200, 200, 200, 200]);
  });
});
