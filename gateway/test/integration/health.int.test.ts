import type { Health } from '@shop/contracts';
import { eventually } from '@shop/platform/testing';
import { startTestGateway, type TestGateway } from '../support/gateway';

describe('gateway: /health aggregates the services', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ HEALTH_TIMEOUT_MS: '300', HEALTH_CACHE_MS: '0' });
  });
  afterAll(() => t.close());
  afterEach(() => {
    for (const stub of [t.products, t.orders, t.notifications]) stub.health = 200;
  });

  it('when every service is healthy, /health answers 200 with each one up', async () => {
    const response = await fetch(`${t.url}/health`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ok',
      service: 'gateway',
      checks: {
        'product-service': { status: 'up' },
        'order-service': { status: 'up' },
        'notification-service': { status: 'up' },
      },
    });
  });

  it('when one service answers 503, /health answers 503 and names it', async () => {
    t.orders.health = 503;

    const response = await fetch(`${t.url}/health`);

    expect(response.status).toBe(503);
    const body = (await response.json()) as Health;
    expect(body.status).toBe('down');
    expect(body.checks['order-service']).toEqual({ status: 'down', detail: 'answered 503' });
    expect(body.checks['product-service']).toEqual({ status: 'up' });
  });

  it('when one service hangs, /health still answers within its timeout, with 503', async () => {
    t.notifications.health = 'hang';

    const response = await fetch(`${t.url}/health`);

    expect(response.status).toBe(503);
    // The stub never answers: an answer at all, naming the timeout, is /health giving up on it.
    expect(((await response.json()) as Health).checks['notification-service']).toEqual({ status: 'down', detail: 'no answer within 300 ms' });
  });
});

describe('gateway: /health when a service is not running at all', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ HEALTH_CACHE_MS: '0' });
    await t.products.close();
  });
  afterAll(() => t.close());

  it('answers 503 with that service unreachable', async () => {
    const response = await fetch(`${t.url}/health`);

    expect(response.status).toBe(503);
    expect(((await response.json()) as Health).checks['product-service']).toEqual({ status: 'down', detail: 'unreachable' });
  });
});

describe('gateway: /health is served from a short cache', () => {
  let t: TestGateway;
  afterEach(() => t.close());

  const upstreamCalls = () => [t.products, t.orders, t.notifications].map((stub) => stub.healthCalls);

  it('by default, a burst of 50 concurrent /health calls asks each service at most a couple of times', async () => {
    t = await startTestGateway();

    const statuses = await Promise.all(Array.from({ length: 50 }, async () => (await fetch(`${t.url}/health`)).status));

    expect(statuses.every((status) => status === 200)).toBe(true);
    for (const calls of upstreamCalls()) expect(calls).toBeLessThanOrEqual(2);
  });

  it('calls one after another within the cache interval cost one upstream round', async () => {
    t = await startTestGateway({ HEALTH_CACHE_MS: '60000' });

    for (let i = 0; i < 10; i++) await fetch(`${t.url}/health`);

    expect(upstreamCalls()).toEqual([1, 1, 1]);
  });

  it('once the cache interval has passed, /health asks again and shows a change', async () => {
    t = await startTestGateway({ HEALTH_CACHE_MS: '100' });
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
    t.orders.health = 503;

    await eventually(async () => expect((await fetch(`${t.url}/health`)).status).toBe(503), { intervalMs: 50 });
  });
});
