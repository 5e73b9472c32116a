import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Health } from '@shop/contracts';
import { eventually } from '@shop/platform/testing';
import { startBlackholedInstance } from '../support/blackholed-instance';
import { bearer, startTestGateway, type TestGateway } from '../support/gateway';
import { deadServiceUrl, startStubService } from '../support/stub-service';

/** No rate limit gets in the way of a burst, and /health asks the instances on every call. */
const SETTINGS = {
  RATE_LIMIT_PER_MINUTE: '0',
  RATE_LIMIT_WRITES_PER_MINUTE: '0',
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: '0',
  HEALTH_CACHE_MS: '0',
};

describe('gateway: several instances of one service (PRODUCT_SERVICE_URL lists them)', () => {
  let t: TestGateway | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await Promise.all(cleanups.splice(0).map((close) => close()));
  });

  const instance = async (port = 0) => {
    const stub = await startStubService('product-service', port);
    cleanups.push(() => stub.close());
    return stub;
  };
  // A new gateway sends its first request to the first instance listed, then takes them in turn.
  const gatewayOver = async (...productUrls: string[]) => {
    t = await startTestGateway({ ...SETTINGS, PRODUCT_SERVICE_URL: productUrls.join(',') });
    return t;
  };
  const getProducts = async (gateway: TestGateway, count: number) => {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++)
      statuses.push((await fetch(`${gateway.url}/api/v1/products?offset=${i}`)).status);
    return statuses;
  };
  const postProduct = async (gateway: TestGateway, body: string) =>
    fetch(`${gateway.url}/api/v1/products`, {
      method: 'POST',
      headers: { authorization: await bearer(1, ['admin']), 'content-type': 'application/json' },
      body,
    });

  it('requests are spread over the healthy instances in turn', async () => {
    const [first, second] = [await instance(), await instance()];
    const gateway = await gatewayOver(first.url, second.url);

    const statuses = await getProducts(gateway, 10);

    expect(statuses).toEqual(Array(10).fill(200));
    expect([first.received.length, second.received.length]).toEqual([5, 5]);
  });

  it('when one of two instances refuses connections, every request answers 200 from the other, one after another and all at once', async () => {
    const live = await instance();
    const gateway = await gatewayOver(await deadServiceUrl(), live.url);

    const oneAfterAnother = await getProducts(gateway, 20);
    const allAtOnce = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => (await fetch(`${gateway.url}/api/v1/products/${i}`)).status),
    );

    expect(oneAfterAnother).toEqual(Array(20).fill(200));
    expect(allAtOnce).toEqual(Array(30).fill(200));
    expect(live.received).toHaveLength(50);
  });

  const everyRequestOf = async (gateway: TestGateway) => ({
    oneAfterAnother: await getProducts(gateway, 10),
    allAtOnce: await Promise.all(
      Array.from({ length: 10 }, async (_, i) => (await fetch(`${gateway.url}/api/v1/products/${i}`)).status),
    ),
  });

  it('when one of two instances has a host name that does not resolve (a stopped container), every request answers 200 from the other', async () => {
    const live = await instance();
    const gateway = await gatewayOver('http://shop-instance-that-does-not-exist.invalid:8001', live.url);

    const { oneAfterAnother, allAtOnce } = await everyRequestOf(gateway);

    expect(oneAfterAnother).toEqual(Array(10).fill(200));
    expect(allAtOnce).toEqual(Array(10).fill(200));
    expect(live.received).toHaveLength(20);
  });

  it('when one of two instances never lets a connection open (blackholed), every request answers 200 from the other', async () => {
    // Arrange: the blackholed instance is first in turn, so the first requests go to it.
    const blackholed = await startBlackholedInstance();
    cleanups.push(blackholed.close);
    const live = await instance();
    const gateway = await gatewayOver(blackholed.url, live.url);

    // Act
    const { oneAfterAnother, allAtOnce } = await everyRequestOf(gateway);

    // Assert
    expect(oneAfterAnother).toEqual(Array(10).fill(200));
    expect(allAtOnce).toEqual(Array(10).fill(200));
    expect(live.received).toHaveLength(20);
  });

  it('a POST whose connection the first instance refused reaches the second exactly once, its body and headers intact', async () => {
    // Arrange: 300 kB arrive in many chunks, so all of them must have been kept for the second attempt.
    const live = await instance();
    const gateway = await gatewayOver(await deadServiceUrl(), live.url);
    const body = JSON.stringify({
      name: 'Desk lamp',
      price: '19.90',
      stock: 3,
      description: 'x'.repeat(300_000),
    });

    // Act
    const response = await postProduct(gateway, body);

    // Assert
    expect(response.status).toBe(200);
    expect(live.received).toHaveLength(1);
    const [received] = live.received;
    expect(received.method).toBe('POST');
    expect(received.url).toBe('/api/v1/products');
    expect(received.body.toString()).toBe(body);
    expect(received.headers['content-type']).toBe('application/json');
    // Sent twice, the request still names its client once.
    expect(received.headers['x-forwarded-for']).not.toContain(',');
  });

  it('a request whose connection was reset after it was sent is not sent again: 503, and the other instance never sees it', async () => {
    const resetting = await resettingInstance();
    cleanups.push(resetting.close);
    const live = await instance();
    const gateway = await gatewayOver(resetting.url, live.url);

    const response = await postProduct(gateway, '{"name":"Desk lamp"}');

    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ code: 'service_unavailable' });
    expect(resetting.posts()).toBe(1);
    expect(live.received).toHaveLength(0);
  });

  it('when every instance refuses connections, the request answers 503 service_unavailable', async () => {
    const gateway = await gatewayOver(await deadServiceUrl(), await deadServiceUrl());

    const response = await postProduct(gateway, '{}');

    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ code: 'service_unavailable' });
  });

  it('an instance that stopped and comes back is used again (here as soon as /health finds it healthy)', async () => {
    // Arrange: the first instance stops before any request, so the gateway finds it refusing.
    const [first, second] = [await instance(), await instance()];
    const gateway = await gatewayOver(first.url, second.url);
    const port = Number(new URL(first.url).port);
    await first.close();
    expect(await getProducts(gateway, 4)).toEqual(Array(4).fill(200));
    expect(second.received).toHaveLength(4);

    // Act: it starts again where it was.
    const back = await instance(port);
    const health = await fetch(`${gateway.url}/health`);
    const statuses = await getProducts(gateway, 4);

    // Assert: both are up again and share the requests.
    expect(((await health.json()) as Health).checks['product-service']).toEqual({
      status: 'up',
      detail: '2 of 2 instances up',
    });
    expect(statuses).toEqual(Array(4).fill(200));
    expect(back.received).toHaveLength(2);
  });

  it("an instance whose /health fails gets no requests, without anyone asking the gateway's /health, and gets them again once it is healthy", async () => {
    // Arrange: the first instance's /health answers 503 (a lost database, a drain).
    const [failing, healthy] = [await instance(), await instance()];
    const gateway = await gatewayOver(failing.url, healthy.url);
    failing.health = 503;

    // Act + Assert: once the background probe has seen it, a round of requests leaves it alone.
    await eventually(
      async () => {
        const before = failing.received.length;
        expect(await getProducts(gateway, 4)).toEqual(Array(4).fill(200));
        expect(failing.received.length).toBe(before);
      },
      { intervalMs: 100 },
    );
    failing.health = 200;
    await eventually(
      async () => {
        const before = failing.received.length;
        await getProducts(gateway, 4);
        expect(failing.received.length).toBe(before + 2);
      },
      { intervalMs: 100 },
    );
  });

  it('/health reports a service with 1 of 2 instances up as degraded (200), and says which is not', async () => {
    const dead = await deadServiceUrl();
    const gateway = await gatewayOver(dead, (await instance()).url);

    const response = await fetch(`${gateway.url}/health`);

    expect(response.status).toBe(200);
    const body = (await response.json()) as Health;
    expect(body.status).toBe('degraded');
    expect(body.checks['product-service']).toEqual({
      status: 'degraded',
      detail: `1 of 2 instances up; ${dead} down: unreachable`,
    });
    expect(body.checks['order-service']).toEqual({ status: 'up' });
  });

  it('/health reports a service with none of its instances up as down (503)', async () => {
    const stopped = await instance();
    stopped.health = 503;
    const dead = await deadServiceUrl();
    const gateway = await gatewayOver(stopped.url, dead);

    const response = await fetch(`${gateway.url}/health`);

    expect(response.status).toBe(503);
    expect(((await response.json()) as Health).checks['product-service']).toEqual({
      status: 'down',
      detail: `0 of 2 instances up; ${stopped.url} down: answered 503; ${dead} down: unreachable`,
    });
  });
});

/** An instance that takes the connection, reads the request and resets the connection: it may have acted on it. */
async function resettingInstance() {
  let posts = 0;
  const server = createServer((socket) =>
    socket.once('data', (chunk: Buffer) => {
      if (chunk.toString('latin1').startsWith('POST ')) posts += 1;
      socket.resetAndDestroy();
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts: () => posts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
