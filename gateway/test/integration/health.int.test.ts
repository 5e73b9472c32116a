import type { Health } from '@shop/contracts';
import { startTestGateway, type TestGateway } from '../support/gateway';

describe('gateway: /health aggregates the services', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ HEALTH_TIMEOUT_MS: '300' });
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
    const started = Date.now();

    const response = await fetch(`${t.url}/health`);

    expect(response.status).toBe(503);
    expect(((await response.json()) as Health).checks['notification-service']).toEqual({ status: 'down', detail: 'no answer within 300 ms' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('gateway: /health when a service is not running at all', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
    await t.products.close();
  });
  afterAll(() => t.close());

  it('answers 503 with that service unreachable', async () => {
    const response = await fetch(`${t.url}/health`);

    expect(response.status).toBe(503);
    expect(((await response.json()) as Health).checks['product-service']).toEqual({ status: 'down', detail: 'unreachable' });
  });
});
