import { bearer, startTestGateway, type TestGateway } from '../support/gateway';

const from = (address: string, headers: Record<string, string> = {}) => ({ headers: { 'x-forwarded-for': address, ...headers } });

async function statusesOf(count: number, call: () => Promise<Response>): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push((await call()).status);
  return statuses;
}

/** Sends up to `total` requests, `concurrency` at a time, and stops at the first 429: how many went out by then. */
async function burstUntilLimited(total: number, concurrency: number, call: () => Promise<Response>): Promise<number | undefined> {
  for (let sent = 0; sent < total; sent += concurrency) {
    const statuses = await Promise.all(Array.from({ length: concurrency }, async () => (await call()).status));
    if (statuses.includes(429)) return sent + concurrency;
  }
  return undefined;
}

describe('gateway: rate limits', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({
      RATE_LIMIT_PER_MINUTE: '5',
      RATE_LIMIT_WRITES_PER_MINUTE: '3',
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '2',
      TRUST_PROXY_HOPS: '1', // so each test can be its own client address through X-Forwarded-For
    });
  });
  afterAll(() => t.close());

  it('when a user goes over the limit, the next request answers 429 rate_limited with Retry-After and is not proxied', async () => {
    const authorization = await bearer(101);
    for (let i = 0; i < 5; i++) {
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
    for (let i = 0; i < 6; i++) await fetch(`${t.url}/api/v1/orders`, { headers: { authorization: heavy } });

    const response = await fetch(`${t.url}/api/v1/orders`, { headers: { authorization: await bearer(202) } });

    expect(response.status).toBe(200);
  });

  it('anonymous callers get the lower per-address limit, and another address is not throttled by the first', async () => {
    const statuses = await statusesOf(3, () => fetch(`${t.url}/api/v1/products`, from('203.0.113.10')));
    const neighbour = await fetch(`${t.url}/api/v1/products`, from('203.0.113.11'));

    expect(statuses).toEqual([200, 200, 429]);
    expect(neighbour.status).toBe(200);
  });

  it('writes have their own tighter per-user limit: the write over it answers 429 while reads still pass', async () => {
    const authorization = await bearer(301);
    const post = () => fetch(`${t.url}/api/v1/orders`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: '{}' });

    const writes = await statusesOf(4, post);
    const read = await fetch(`${t.url}/api/v1/orders`, { headers: { authorization } });

    expect(writes).toEqual([200, 200, 200, 429]);
    expect(read.status).toBe(200);
  });

  it('/health is limited per client address, with 429 rate_limited and Retry-After', async () => {
    const statuses = await statusesOf(2, () => fetch(`${t.url}/health`, from('203.0.113.20')));

    const response = await fetch(`${t.url}/health`, from('203.0.113.20'));

    expect(statuses).toEqual([200, 200]);
    expect(response.status).toBe(429);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await response.json()).toMatchObject({ status: 429, code: 'rate_limited' });
  });

  it('/openapi.json and /docs are limited per client address', async () => {
    const documents = await statusesOf(3, () => fetch(`${t.url}/openapi.json`, from('203.0.113.30')));
    const pages = await statusesOf(3, () => fetch(`${t.url}/docs/`, from('203.0.113.31')));

    expect(documents).toEqual([200, 200, 429]);
    expect(pages).toEqual([200, 200, 429]);
  });
});

describe('gateway: default rate limits', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(() => t.close());

  it('by default, a 3000-request burst from one user meets 429 long before its end', async () => {
    const authorization = await bearer(401);

    const sentWhenLimited = await burstUntilLimited(3000, 25, () => fetch(`${t.url}/api/v1/orders`, { headers: { authorization } }));

    expect(sentWhenLimited).toBeDefined();
    expect(sentWhenLimited).toBeLessThanOrEqual(1000);
  });

  it('by default, an anonymous address is limited sooner than a user', async () => {
    const authorization = await bearer(402);
    const user = await burstUntilLimited(3000, 25, () => fetch(`${t.url}/api/v1/products`, { headers: { authorization } }));

    const anonymous = await burstUntilLimited(3000, 25, () => fetch(`${t.url}/api/v1/products`));

    expect(anonymous).toBeDefined();
    expect(anonymous).toBeLessThan(user!);
  });
});
