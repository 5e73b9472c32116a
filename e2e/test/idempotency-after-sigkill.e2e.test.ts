import { Client } from 'pg';
import { signToken } from '@shop/platform';
import {
  createTestDatabase,
  createTestVhost,
  eventually,
  type TestDatabase,
  type TestVhost,
} from '@shop/platform/testing';
import * as orders from '@shop/order-service';
import { startHoldingProductService, type HoldingProductService } from './support/holding-product-service';
import { spawnService, type ServiceProcess } from './support/service-process';

const JWT_SECRET = 'idempotency-sigkill-secret-0123456789';
/** Short, so a claim left by the killed request frees within seconds (default 10 s). */
const REQUEST_DEADLINE_MS = 2_000;
const USER_ID = 4242;
const KEY = 'sigkilled-mid-request';
const PRODUCT = {
  id: 1,
  name: 'Wireless Mouse',
  description: null,
  price: '25.99',
  stock: 100,
  created_at: '2025-01-01T00:00:00.000Z',
  updated_at: '2025-01-01T00:00:00.000Z',
};

interface Answer {
  status: number;
  retryAfter: string | null;
  replayed: string | null;
  body: { id?: number; code?: string };
}

/**
 * Issue 9 §3 for real: the order service is SIGKILLed while a POST /orders is in flight, so nothing
 * completes or releases its Idempotency-Key claim. The claim lasts one request deadline
 * (ORDER_REQUEST_DEADLINE_MS, by the database's clock): until then a retry is told when to come
 * back, after it a retry takes the claim over — and still only one order exists.
 *
 * The replacement process (same database, its own port) is already up when the first one dies, as
 * a second replica or a warm standby would be: a process start takes seconds, longer than this
 * short deadline, and the 409 phase must not depend on how fast a process boots.
 */
describe('Idempotency-Key after the order service is SIGKILLed mid-request', () => {
  jest.setTimeout(40_000);

  let vhost: TestVhost;
  let database: TestDatabase;
  let products: HoldingProductService;
  let doomed: ServiceProcess;
  let replacement: ServiceProcess;

  beforeAll(async () => {
    [vhost, database, products] = await Promise.all([
      createTestVhost(),
      createTestDatabase({ migrationsDir: orders.migrationsDir() }),
      startHoldingProductService([PRODUCT]),
    ]);
    const env = {
      JWT_SECRET,
      AMQP_URL: vhost.url,
      DATABASE_URL: database.url,
      PRODUCT_SERVICE_URL: products.url,
      ORDER_REQUEST_DEADLINE_MS: String(REQUEST_DEADLINE_MS),
    };
    [doomed, replacement] = await Promise.all([
      spawnService('order-service', 'order-service', env),
      spawnService('order-service', 'order-service', env),
    ]);
  });
  afterAll(async () => {
    doomed?.kill();
    replacement?.kill();
    await products?.close();
    await Promise.all([vhost?.drop(), database?.drop()]);
  });

  test('a retry is told to come back within the deadline, then gets 201 with the one order, which later retries replay', async () => {
    // Arrange: the first request claims the key, then waits on the product service, which holds it.
    const token = await signToken({ userId: USER_ID, roles: [] }, JWT_SECRET);
    const placeOrder = (service: ServiceProcess) =>
      fetch(`${service.url}/api/v1/orders`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/json',
          'Idempotency-Key': KEY,
        },
        body: JSON.stringify({ items: [{ product_id: PRODUCT.id, quantity: 2 }] }),
      }).then(answerOf);
    const first = placeOrder(doomed).then(
      (answer) => ({ answered: answer }),
      (error: unknown) => ({ failed: String(error) }),
    );
    await eventually(
      async () => {
        expect(await claimsOf(database.url)).toEqual([{ key: KEY, status: 'in_flight' }]);
        expect(products.calls()).toBe(1);
      },
      { description: 'the first request claimed the key and is waiting on the product service' },
    );

    // Act: kill it mid-request; the client, answered nothing, retries on the replacement.
    doomed.kill();
    const exit = await doomed.exited;
    const rightAfter = await placeOrder(replacement);

    // Assert: the key is in flight, free again within one deadline.
    expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await first).toEqual({ failed: expect.any(String) });
    const deadlineSeconds = Math.ceil(REQUEST_DEADLINE_MS / 1000);
    expect(rightAfter).toMatchObject({ status: 409, body: { code: 'idempotency_request_in_flight' } });
    expect(Number(rightAfter.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(rightAfter.retryAfter)).toBeLessThanOrEqual(deadlineSeconds);

    // Act: retry as a careful client does, pausing between tries only as long as the answer said.
    const retries: Answer[] = [];
    const placed = await eventually(
      async () => {
        const answer = await placeOrder(replacement);
        retries.push(answer);
        expect(answer).not.toMatchObject({ status: 409 });
        return answer;
      },
      {
        intervalMs: Number(rightAfter.retryAfter) * 1000,
        timeoutMs: 4 * REQUEST_DEADLINE_MS,
        description: 'a retry got a definite answer',
      },
    ).catch((error: Error) => {
      // The try cut off by the timeout says only "still running"; the answers say what happened.
      throw new Error(
        `${error.message}\nthe answers: ${JSON.stringify(retries.map(({ status, retryAfter, body }) => ({ status, retryAfter, code: body.code })))}`,
        { cause: error },
      );
    });
    const replay = await placeOrder(replacement);

    // Assert: waiting as told is enough — the Retry-After is rounded up, so the try after the pause
    // finds the claim free (the try at once may still be told 409) — and there is exactly one order,
    // with one OrderCreated, which a later retry replays.
    expect(retries.length).toBeLessThanOrEqual(2);
    expect(placed).toMatchObject({ status: 201, replayed: null, body: { id: expect.any(Number) } });
    expect(replay).toMatchObject({ status: 201, replayed: 'true', body: placed.body });
    expect(await claimsOf(database.url)).toEqual([{ key: KEY, status: 'done' }]);
    expect(await query(database.url, 'SELECT id, user_id FROM orders')).toEqual([
      { id: placed.body.id, user_id: USER_ID },
    ]);
    expect(
      await query(database.url, "SELECT aggregate_id FROM outbox_events WHERE type = 'OrderCreated'"),
    ).toEqual([{ aggregate_id: String(placed.body.id) }]);
  });
});

async function answerOf(response: Response): Promise<Answer> {
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    replayed: response.headers.get('idempotent-replayed'),
    body: (await response.json()) as Answer['body'],
  };
}

const claimsOf = (url: string) => query(url, 'SELECT key, status FROM idempotency_keys');

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}
