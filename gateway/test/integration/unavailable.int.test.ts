import { bearer, startTestGateway, type TestGateway } from '../support/gateway';
import { deadServiceUrl } from '../support/stub-service';

describe('gateway: when a service is down or slow', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ ORDER_SERVICE_URL: await deadServiceUrl(), PROXY_TIMEOUT_MS: '300' });
  });
  afterAll(() => t.close());

  it('when the order service is down, orders answer 503 service_unavailable problem+json (a refused connection, not a timeout)', async () => {
    const response = await fetch(`${t.url}/api/v1/orders`, { headers: { authorization: await bearer(42) } });

    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    // service_unavailable, not service_timeout: the refused connection answered, not the 300 ms timer.
    expect(await response.json()).toMatchObject({ status: 503, code: 'service_unavailable' });
  });

  it('when the product service does not answer, the gateway gives up after its timeout with 504', async () => {
    t.products.hang = true;
    try {
      const response = await fetch(`${t.url}/api/v1/products/1`);

      // The stub never answers, so an answer at all is the gateway's timeout giving up.
      expect(response.status).toBe(504);
      expect(await response.json()).toMatchObject({ status: 504, code: 'service_timeout' });
    } finally {
      t.products.hang = false;
    }
  });

  it('the other services keep working while one is down', async () => {
    const response = await fetch(`${t.url}/api/v1/notifications`, { headers: { authorization: await bearer(42) } });

    expect(response.status).toBe(200);
  });
});
