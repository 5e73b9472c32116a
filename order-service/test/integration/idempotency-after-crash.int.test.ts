import { Client } from 'pg';
import request from 'supertest';
import { eventually } from '@shop/platform/testing';
import { createIdempotencyRepository } from '../../src/db/idempotency-repository';
import { requestHash } from '../../src/use-cases/place-order';
import {
  bearer,
  buildOrderBody,
  createOrderWorld,
  newUserId,
  REQUEST_DEADLINE_MS,
  type OrderWorld,
} from '../support/order-world';

/**
 * Issue 9 §3: a request SIGKILLed mid-flight leaves its Idempotency-Key claim `in_flight`, with
 * nobody left to complete or release it. The claim is bounded by the request deadline
 * (ORDER_REQUEST_DEADLINE_MS): before it, a retry is told when to come back; after it, a retry
 * takes the claim over and gets a definite answer — and never a second order.
 */
describe('Idempotency-Key after a crash', () => {
  let world: OrderWorld;
  beforeAll(async () => {
    world = await createOrderWorld();
  });
  afterAll(() => world.teardown());

  const body = buildOrderBody();
  const post = (auth: string, key: string) =>
    request(world.app)
      .post('/api/v1/orders')
      .set('Authorization', auth)
      .set('Idempotency-Key', key)
      .send(body);
  const ordersOf = async (userId: number) =>
    Number(
      (await world.pool.query('SELECT count(*) FROM orders WHERE user_id = $1', [userId])).rows[0].count,
    );
  const claimOf = async (userId: number) =>
    (await world.pool.query('SELECT status FROM idempotency_keys WHERE user_id = $1', [userId])).rows[0];

  /** What a request killed after its claim leaves behind: the claim row, in flight, `ageMs` old. */
  async function leaveCrashedClaim(userId: number, key: string, ageMs: number): Promise<void> {
    const keys = createIdempotencyRepository(world.db, REQUEST_DEADLINE_MS);
    expect((await keys.claim(userId, key, requestHash(body.items))).kind).toBe('claimed');
    await world.pool.query(
      `UPDATE idempotency_keys SET created_at = created_at - make_interval(secs => $2::float8 / 1000)
        WHERE user_id = $1`,
      [userId, ageMs],
    );
  }

  /** Backends of this test's database that wait for a row lock (Postgres's own view). */
  const lockWaiters = async () =>
    Number(
      (
        await world.pool.query(
          `SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        )
      ).rows[0].count,
    );

  test('a claim left in flight by a crashed request answers 409 with a Retry-After saying when it will be free', async () => {
    // Arrange: the crashed request claimed the key 2 s ago.
    const userId = newUserId();
    await leaveCrashedClaim(userId, 'crashed-early', 2_000);

    // Act
    const response = await post(await bearer(userId), 'crashed-early');

    // Assert: free in (deadline − 2 s), rounded up to whole seconds — never "1" while it is far off.
    expect(response.status).toBe(409);
    expect(response.body.code).toBe('idempotency_request_in_flight');
    const freeIn = Math.ceil((REQUEST_DEADLINE_MS - 2_000) / 1000);
    expect(Number(response.headers['retry-after'])).toBeLessThanOrEqual(freeIn);
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(freeIn - 1);
    expect(await ordersOf(userId)).toBe(0);
  });

  test('once the request deadline has passed, a retry takes the crashed claim over and gets 201 with exactly one order', async () => {
    // Arrange: the crashed request claimed the key just over a deadline ago.
    const userId = newUserId();
    const auth = await bearer(userId);
    await leaveCrashedClaim(userId, 'crashed-late', REQUEST_DEADLINE_MS + 100);

    // Act
    const retry = await post(auth, 'crashed-late');
    const again = await post(auth, 'crashed-late');

    // Assert
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(retry.body.id);
    expect(await ordersOf(userId)).toBe(1);
  });

  test('a request still running within its deadline is not taken over: a retry meanwhile gets 409 with Retry-After, then the one order replayed', async () => {
    // Arrange: the first request waits on a slow product service, holding its claim.
    const userId = newUserId();
    const auth = await bearer(userId);
    world.stub.behaviour = 'slow';
    let first;
    let meanwhile;
    try {
      const pending = post(auth, 'still-running').then((response) => response);
      await eventually(async () => (await claimOf(userId)) !== undefined);

      // Act
      meanwhile = await post(auth, 'still-running');
      first = await pending;
    } finally {
      world.stub.behaviour = 'ok';
    }
    const after = await post(auth, 'still-running');

    // Assert
    expect(meanwhile.status).toBe(409);
    const retryAfter = Number(meanwhile.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(REQUEST_DEADLINE_MS / 1000));
    expect(first.status).toBe(201);
    expect(after.status).toBe(201);
    expect(after.headers['idempotent-replayed']).toBe('true');
    expect(after.body.id).toBe(first.body.id);
    expect(await ordersOf(userId)).toBe(1);
  });

  test('a take-over that commits while the request’s write waits on the claim row wins: the write re-checks the claim and writes nothing', async () => {
    // Arrange: while the request waits on the product service, a test session locks its claim row,
    // so the request's transaction queues behind it when it comes to complete the claim.
    const userId = newUserId();
    const auth = await bearer(userId);
    const session = new Client({ connectionString: world.database.url });
    await session.connect();
    world.stub.behaviour = 'slow';
    let answer;
    try {
      const pending = post(auth, 'late-write').then((response) => response);
      await eventually(async () => (await claimOf(userId)) !== undefined);
      await session.query('BEGIN');
      await session.query('SELECT 1 FROM idempotency_keys WHERE user_id = $1 FOR UPDATE', [userId]);
      await eventually(async () => (await lockWaiters()) > 0);

      // Act: the take-over a retry makes after the deadline (a new token), committed first.
      await session.query('UPDATE idempotency_keys SET created_at = clock_timestamp() WHERE user_id = $1', [
        userId,
      ]);
      await session.query('COMMIT');
      answer = await pending;
    } finally {
      world.stub.behaviour = 'ok';
      await session.end();
    }

    // Assert: no order and no event (its inserts rolled back); the claim is the new owner's, still in flight.
    expect(answer.status).toBe(409);
    expect(answer.body.code).toBe('idempotency_request_in_flight');
    expect(await ordersOf(userId)).toBe(0);
    expect(
      (
        await world.pool.query(`SELECT 1 FROM outbox_events WHERE payload->'data'->>'user_id' = $1`, [
          String(userId),
        ])
      ).rowCount,
    ).toBe(0);
    expect(await claimOf(userId)).toEqual({ status: 'in_flight' });
  });

  test('a take-over that waits on a write committing at the deadline finds the order done and replays it', async () => {
    // Arrange: an expired claim whose request holds the claim row — as its write does from the moment
    // it checks the claim until it commits — while a retry tries to take the claim over.
    const userId = newUserId();
    await leaveCrashedClaim(userId, 'committing', REQUEST_DEADLINE_MS + 100);
    const session = new Client({ connectionString: world.database.url });
    await session.connect();
    let retried;
    try {
      await session.query('BEGIN');
      await session.query('SELECT 1 FROM idempotency_keys WHERE user_id = $1 FOR UPDATE', [userId]);
      const keys = createIdempotencyRepository(world.db, REQUEST_DEADLINE_MS);
      const retry = keys.claim(userId, 'committing', requestHash(body.items));
      await eventually(async () => (await lockWaiters()) > 0);

      // Act: the write completes the claim and commits.
      await session.query(
        `UPDATE idempotency_keys SET status = 'done', response_status = 201, response_body = '{"id": 424242}'
          WHERE user_id = $1`,
        [userId],
      );
      await session.query('COMMIT');
      retried = await retry;
    } finally {
      await session.end();
    }

    // Assert
    expect(retried).toEqual({ kind: 'replay', status: 201, body: { id: 424242 } });
  });
});

describe('a POST /orders is held to its deadline', () => {
  let world: OrderWorld;
  beforeAll(async () => {
    // A product service slower than the deadline but within the client's own timeout.
    world = await createOrderWorld({ requestDeadlineMs: 1_000, productTimeoutMs: 10_000 });
    world.stub.slowMs = 3_000;
  });
  afterAll(() => world.teardown());

  test('when the product service answers only after the deadline, the request gives up at the deadline: 504, nothing written, the key free again', async () => {
    // Arrange
    const userId = newUserId();
    const auth = await bearer(userId);
    world.stub.behaviour = 'slow';
    let response;
    try {
      // Act
      response = await request(world.app)
        .post('/api/v1/orders')
        .set('Authorization', auth)
        .set('Idempotency-Key', 'past-deadline')
        .send(buildOrderBody());
    } finally {
      world.stub.behaviour = 'ok';
    }

    // Assert
    expect(response.status).toBe(504);
    expect(response.body.code).toBe('product_service_timeout');
    expect((await world.pool.query('SELECT 1 FROM orders WHERE user_id = $1', [userId])).rowCount).toBe(0);
    expect(
      (await world.pool.query('SELECT 1 FROM idempotency_keys WHERE user_id = $1', [userId])).rowCount,
    ).toBe(0);
  });
});
