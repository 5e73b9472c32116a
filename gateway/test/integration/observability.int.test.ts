import { startTestGateway, type TestGateway } from '../support/gateway';

describe('gateway: metrics and trace context', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(() => t.close());
  beforeEach(() => {
    t.products.received.length = 0;
  });

  it('when the caller sends a traceparent, the service receives it unchanged', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

    await fetch(`${t.url}/api/v1/products/1`, { headers: { traceparent } });

    expect(t.products.received[0]!.headers.traceparent).toBe(traceparent);
  });

  it('when the caller sends no traceparent, the gateway starts a trace and forwards it', async () => {
    await fetch(`${t.url}/api/v1/products/1`);

    expect(t.products.received[0]!.headers.traceparent).toMatch(/^00-[\da-f]{32}-[\da-f]{16}-01$/);
  });

  it('/metrics on the public port answers 404 problem+json', async () => {
    const response = await fetch(`${t.url}/metrics`);

    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('/metrics on the internal metrics port is the gateway’s own Prometheus text with its HTTP metrics, never proxied', async () => {
    await fetch(`${t.url}/api/v1/products/1`);
    t.products.received.length = 0;

    const response = await fetch(`${t.metricsUrl}/metrics`);
    const text = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/products\/\*",status="200"\} \d+/,
    );
    expect(t.products.received).toHaveLength(0);
  });

  it('the metrics port serves nothing but /metrics', async () => {
    const response = await fetch(`${t.metricsUrl}/api/v1/products/1`);

    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(t.products.received).toHaveLength(0);
  });
});
