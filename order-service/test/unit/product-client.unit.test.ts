import { AppError } from '@shop/platform';
import { eventually } from '@shop/platform/testing';
import {
  createProductClient,
  type ProductClient,
  type ProductClientOptions,
} from '../../src/http-clients/product-client';
import { startProductStub, unusedPort, type ProductStub } from '../support/product-stub';

/** The product HTTP API is this client's edge, so it runs against a real throwaway HTTP server. */
describe('the product client', () => {
  let stub: ProductStub;
  const clients: ProductClient[] = [];
  const buildClient = (overrides: Partial<ProductClientOptions> = {}) => {
    const client = createProductClient({ baseUrl: stub.url, timeoutMs: 500, ...overrides });
    clients.push(client);
    return client;
  };
  const failureOf = async (promise: Promise<unknown>): Promise<AppError> => {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  };

  beforeEach(async () => {
    stub = await startProductStub();
  });
  afterEach(async () => {
    clients.splice(0).forEach((client) => client.close());
    await stub.close();
  });

  test('when all products exist, it returns them in the order asked with one batch call', async () => {
    const client = buildClient();

    const products = await client.getProducts([2, 1]);

    expect(products.map((product) => product.id)).toEqual([2, 1]);
    expect(products[1]).toMatchObject({ name: 'Wireless Mouse', price: '25.99', stock: 100 });
    expect(stub.requests).toHaveLength(1);
    expect(stub.requests[0]).toBe('/api/v1/products?ids=2,1&limit=100');
  });

  test('when some ids are unknown, it answers 404 product_not_found naming them', async () => {
    const client = buildClient();

    const error = await failureOf(client.getProducts([1, 999, 998]));

    expect(error.status).toBe(404);
    expect(error.code).toBe('product_not_found');
    expect(error.message).toContain('999, 998');
    expect(error.options.extra).toEqual({ product_ids: [999, 998] });
  });

  test('when the product service refuses connections, it answers 503 product_service_unavailable', async () => {
    const client = buildClient({ baseUrl: `http://127.0.0.1:${await unusedPort()}` });

    const error = await failureOf(client.getProducts([1]));

    expect(error.status).toBe(503);
    expect(error.code).toBe('product_service_unavailable');
  });

  test('when the product service answers 5xx, it answers 503 product_service_unavailable', async () => {
    stub.behaviour = 'fail-500';
    const client = buildClient();

    const error = await failureOf(client.getProducts([1]));

    expect(error.status).toBe(503);
    expect(error.code).toBe('product_service_unavailable');
  });

  test('when the product service answers a body off the contract, it answers 503', async () => {
    stub.behaviour = 'garbage';
    const client = buildClient();

    const error = await failureOf(client.getProducts([1]));

    expect(error.status).toBe(503);
  });

  test('when the product service does not answer in time, it answers 504 product_service_timeout', async () => {
    stub.behaviour = 'stall';
    const client = buildClient({ timeoutMs: 150 });

    const error = await failureOf(client.getProducts([1]));

    expect(error.status).toBe(504);
    expect(error.code).toBe('product_service_timeout');
  });

  test('a caller with less time left than the client timeout cuts the call at its own limit: 504 though the answer would have come within the client timeout', async () => {
    // Arrange: the product service answers after 400 ms, well inside the client's 5 s timeout.
    stub.behaviour = 'slow';
    const client = buildClient({ timeoutMs: 5_000 });

    // Act: the order request has only 100 ms of its deadline left.
    const error = await failureOf(client.getProducts([1], { timeoutMs: 100 }));

    // Assert
    expect(error.status).toBe(504);
    expect(error.code).toBe('product_service_timeout');
  });

  test('a caller with more time left than the client timeout does not stretch it', async () => {
    stub.behaviour = 'slow';
    const client = buildClient({ timeoutMs: 100 });

    const error = await failureOf(client.getProducts([1], { timeoutMs: 5_000 }));

    expect(error.code).toBe('product_service_timeout');
  });

  test('when failures open the breaker, calls fail fast with 503 without reaching the product service', async () => {
    // Arrange: three failures in a row open a breaker that needs three calls and 50 % failures.
    stub.behaviour = 'fail-500';
    const client = buildClient({
      breaker: { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 },
    });
    for (let i = 0; i < 3; i++) await failureOf(client.getProducts([1]));
    stub.behaviour = 'ok';
    const requestsBefore = stub.requests.length;

    // Act
    const error = await failureOf(client.getProducts([1]));

    // Assert
    expect(error.status).toBe(503);
    expect(error.code).toBe('product_service_unavailable');
    expect(error.message).toMatch(/paused/);
    expect(stub.requests.length).toBe(requestsBefore);
  });

  test('after the reset timeout, a healthy product service closes the breaker again', async () => {
    // Arrange: two failures open the breaker; it is open, since a call now fails without a request.
    stub.behaviour = 'fail-500';
    const client = buildClient({
      breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 200 },
    });
    for (let i = 0; i < 2; i++) await failureOf(client.getProducts([1]));
    stub.behaviour = 'ok';
    const requestsWhileFailing = stub.requests.length;
    expect((await failureOf(client.getProducts([1]))).message).toMatch(/paused/);
    expect(stub.requests.length).toBe(requestsWhileFailing);

    // Act: callers keep calling; once the reset timeout is over, a trial call reaches the service.
    const products = await eventually(() => client.getProducts([1]), { intervalMs: 20 });

    // Assert: closed again, every later call goes through.
    expect(products).toHaveLength(1);
    const requestsWhenClosed = stub.requests.length;
    expect(await client.getProducts([1])).toHaveLength(1);
    expect(stub.requests.length).toBe(requestsWhenClosed + 1);
  });

  describe('with several product-service instances (PRODUCT_SERVICE_URL lists them)', () => {
    const others: ProductStub[] = [];
    const anotherStub = async () => {
      const other = await startProductStub();
      others.push(other);
      return other;
    };
    afterEach(async () => {
      await Promise.all(others.splice(0).map((other) => other.close()));
    });

    test('calls take the instances in turn', async () => {
      const second = await anotherStub();
      const client = buildClient({ baseUrl: `${stub.url},${second.url}` });

      for (let i = 0; i < 4; i++) await client.getProducts([1]);

      expect([stub.requests.length, second.requests.length]).toEqual([2, 2]);
    });

    test('when one instance refuses connections, every call is answered by the other', async () => {
      const client = buildClient({ baseUrl: `http://127.0.0.1:${await unusedPort()},${stub.url}` });

      const answers = await Promise.all(Array.from({ length: 6 }, () => client.getProducts([2, 1])));

      expect(answers.map((products) => products.map((product) => product.id))).toEqual(Array(6).fill([2, 1]));
      expect(stub.requests).toHaveLength(6);
    });

    // A breaker that opens on the first failed call: a call that any instance answered must not count as one.
    const BREAKER_ON_FIRST_FAILURE = {
      volumeThreshold: 1,
      errorThresholdPercentage: 1,
      resetTimeoutMs: 60_000,
    };
    const productIdsOf = (answers: { id: number }[][]) =>
      answers.map((products) => products.map(({ id }) => id));

    test('when one instance hangs (takes the connection, never answers), every call is answered by the other within the deadline, and the breaker stays closed', async () => {
      // Arrange: the hung instance is first in turn; each call has 1 s.
      const hung = stub;
      hung.behaviour = 'stall';
      const live = await anotherStub();
      const client = buildClient({
        baseUrl: `${hung.url},${live.url}`,
        timeoutMs: 1_000,
        breaker: BREAKER_ON_FIRST_FAILURE,
      });

      // Act: some at once (several reach the hung one before it is known), then one after another.
      const allAtOnce = await Promise.all(Array.from({ length: 6 }, () => client.getProducts([2, 1])));
      const oneAfterAnother = [];
      for (let i = 0; i < 10; i++) oneAfterAnother.push(await client.getProducts([2, 1]));

      // Assert
      expect(productIdsOf([...allAtOnce, ...oneAfterAnother])).toEqual(Array(16).fill([2, 1]));
      expect(live.requests).toHaveLength(16);
      expect(hung.requests.length).toBeGreaterThan(0);
    });

    test("when one instance's host name does not resolve (a stopped container), every call is answered by the other, and the breaker stays closed", async () => {
      const client = buildClient({
        baseUrl: `http://shop-instance-that-does-not-exist.invalid:8001,${stub.url}`,
        breaker: BREAKER_ON_FIRST_FAILURE,
      });

      const allAtOnce = await Promise.all(Array.from({ length: 6 }, () => client.getProducts([2, 1])));
      const oneAfterAnother = [];
      for (let i = 0; i < 10; i++) oneAfterAnother.push(await client.getProducts([2, 1]));

      expect(productIdsOf([...allAtOnce, ...oneAfterAnother])).toEqual(Array(16).fill([2, 1]));
      expect(stub.requests).toHaveLength(16);
    });

    test('an instance that failed a call is skipped while it cools down, then used again', async () => {
      // Arrange: the first call finds the first instance hung and is answered by the second.
      const [first, second] = [stub, await anotherStub()];
      first.behaviour = 'stall';
      const client = buildClient({
        baseUrl: `${first.url},${second.url}`,
        timeoutMs: 1_000,
        coolDownMs: 1_000,
      });
      await client.getProducts([1]);
      expect([first.requests.length, second.requests.length]).toEqual([1, 1]);
      first.behaviour = 'ok';

      // Act + Assert: at once, every call skips it (even when it is its turn).
      for (let i = 0; i < 4; i++) await client.getProducts([1]);
      expect([first.requests.length, second.requests.length]).toEqual([1, 5]);
      // Once the cool-down is over, calls reach it again.
      await eventually(
        async () => {
          await client.getProducts([1]);
          expect(first.requests.length).toBeGreaterThan(1);
        },
        { intervalMs: 50 },
      );
    });

    test('when every instance fails (one unresolvable, one hung), the call ends with the last failure: 504 product_service_timeout', async () => {
      stub.behaviour = 'stall';
      const client = buildClient({
        baseUrl: `http://shop-instance-that-does-not-exist.invalid:8001,${stub.url}`,
        timeoutMs: 300,
      });

      const error = await failureOf(client.getProducts([1]));

      expect(error.status).toBe(504);
      expect(error.code).toBe('product_service_timeout');
      expect(stub.requests).toHaveLength(1);
    });

    test('when every instance refuses connections, it answers 503 product_service_unavailable', async () => {
      const client = buildClient({
        baseUrl: `http://127.0.0.1:${await unusedPort()},http://127.0.0.1:${await unusedPort()}`,
      });

      const error = await failureOf(client.getProducts([1]));

      expect(error.status).toBe(503);
      expect(error.code).toBe('product_service_unavailable');
    });

    test('a 5xx from the instance in turn ends the call: it is an answer, so it is not asked of another', async () => {
      stub.behaviour = 'fail-500';
      const second = await anotherStub();
      const client = buildClient({ baseUrl: `${stub.url},${second.url}` });

      const error = await failureOf(client.getProducts([1]));

      expect(error.status).toBe(503);
      expect(stub.requests).toHaveLength(1);
      expect(second.requests).toHaveLength(0);
    });
  });

  test('404s for unknown products never open the breaker', async () => {
    const client = buildClient({ breaker: { volumeThreshold: 2, errorThresholdPercentage: 50 } });
    for (let i = 0; i < 4; i++) await failureOf(client.getProducts([999]));

    const products = await client.getProducts([1]);

    expect(products).toHaveLength(1);
  });
});
