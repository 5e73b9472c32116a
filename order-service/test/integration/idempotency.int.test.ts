import request from 'supertest';
import { eventually } from '@shop/platform/testing';
import { createIdempotencyRepository } from '../../src/db/idempotency-repository';
import {
  bearer,
  buildOrderBody,
  countRows,
  createOrderWorld,
  newUserId,
  type OrderWorld,
} from '../support/order-world';

describe('Idempotency-Key on POST /api/v1/orders', () => {
  let world: OrderWorld;
  beforeAll(async () => {
    world = await createOrderWorld();
  });
  afterAll(() => world.teardown());

  const post = (auth: string, key: string | undefined, body: object = buildOrderBody()) => {
    const call = request(world.app).post('/api/v1/orders').set('Authorization', auth);
    if (key !== undefined) call.set('Idempotency-Key', key);
    return call.send(body);
  };
  const ordersOf = async (userId: number) =>
    Number(
      (await world.pool.query('SELECT count(*) FROM orders WHERE user_id = $1', [userId])).rows[0].count,
    );

  const requestHashOf = async (userId: number): Promise<string> =>
    (await world.pool.query('SELECT request_hash FROM idempotency_keys WHERE user_id = $1', [userId])).rows[0]
      .request_hash;

  test('when the same user repeats the same request with the same key, the first response comes back once more, marked replayed', async () => {
    // Arrange
    const userId = newUserId();
    const auth = await bearer(userId);
    const first = await post(auth, 'key-replay-1');

    // Act
    const second = await post(auth, 'key-replay-1');

    // Assert
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.headers.location).toBe(first.headers.location);
    expect(second.body).toEqual(first.body);
    expect(await ordersOf(userId)).toBe(1);
  });

  test('a replay does not ask the product service again', async () => {
    const auth = await bearer(newUserId());
    await post(auth, 'key-no-refetch');
    const before = world.stub.requests.length;

    await post(auth, 'key-no-refetch');

    expect(world.stub.requests.length).toBe(before);
  });

  test('when the same key comes with a different body, it answers 422 idempotency_key_reused and creates nothing', async () => {
    const userId = newUserId();
    const auth = await bearer(userId);
    await post(auth, 'key-reuse');

    const response = await post(
      auth,
      'key-reuse',
      buildOrderBody({ items: [{ product_id: 3, quantity: 1 }] }),
    );

    expect(response.status).toBe(422);
    expect(response.body.code).toBe('idempotency_key_reused');
    expect(await ordersOf(userId)).toBe(1);
  });

  test('the same key from two different users is two different requests', async () => {
    const [a, b] = [newUserId(), newUserId()];

    const first = await post(await bearer(a), 'shared-key');
    const second = await post(await bearer(b), 'shared-key');

    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(second.body.id).not.toBe(first.body.id);
  });

  test('while the first request is still in flight, a second with the same key answers 409 idempotency_request_in_flight', async () => {
    // Arrange: the product service stalls, so the first request holds its claim.
    const userId = newUserId();
    const auth = await bearer(userId);
    world.stub.behaviour = 'stall';
    const first = post(auth, 'key-in-flight').then((response) => response);
    await eventually(
      async () => (await countRows(world.pool, 'idempotency_keys')) > 0 && world.stub.requests.length > 0,
    );

    try {
      // Act
      const second = await post(auth, 'key-in-flight');

      // Assert
      expect(second.status).toBe(409);
      expect(second.body.code).toBe('idempotency_request_in_flight');
    } finally {
      world.stub.behaviour = 'ok';
    }
    expect((await first).status).toBe(504);
  });

  test('when the first request failed without effect, the key is free again and a retry succeeds', async () => {
    const userId = newUserId();
    const auth = await bearer(userId);
    world.stub.behaviour = 'fail-500';
    let failed;
    try {
      failed = await post(auth, 'key-retry');
    } finally {
      world.stub.behaviour = 'ok';
    }

    const retried = await post(auth, 'key-retry');

    expect(failed.status).toBe(503);
    expect(retried.status).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(await ordersOf(userId)).toBe(1);
  });

  test('a slow request whose claim was taken over after the TTL can no longer free the key: it stays with the new owner', async () => {
    // Arrange: the first request's claim outlives the TTL (as if it hung) and a retry takes it over.
    const keys = createIdempotencyRepository(world.db, 60_000);
    const userId = newUserId();
    const first = await keys.claim(userId, 'key-take-over', 'hash');
    await world.pool.query(
      `UPDATE idempotency_keys SET created_at = created_at - interval '1 hour' WHERE user_id = $1`,
      [userId],
    );
    const second = await keys.claim(userId, 'key-take-over', 'hash');
    expect(first.kind).toBe('claimed');
    expect(second.kind).toBe('claimed');

    // Act: the slow first request fails at last and gives back what it had claimed.
    if (first.kind !== 'claimed') throw new Error('unreachable');
    await keys.release({ userId, key: 'key-take-over', token: first.token });

    // Assert: the key is still the second request's, in flight; a third must wait.
    expect(await keys.claim(userId, 'key-take-over', 'hash')).toMatchObject({ kind: 'in_flight' });
    if (second.kind !== 'claimed') throw new Error('unreachable');
    await keys.release({ userId, key: 'key-take-over', token: second.token });
    expect((await keys.claim(userId, 'key-take-over', 'hash')).kind).toBe('claimed');
  });

  test('a request whose claim was taken over while it waited on the product service writes nothing and answers 409', async () => {
    // Arrange: the product service answers slowly; while the request waits, its claim is aged past
    // the TTL and taken over by a retry (claimed directly, as a second request would).
    const keys = createIdempotencyRepository(world.db, 60_000);
    const userId = newUserId();
    const auth = await bearer(userId);
    world.stub.behaviour = 'slow';
    let slow;
    let retry;
    try {
      const pending = post(auth, 'key-lost').then((response) => response);
      await eventually(
        async () =>
          (await world.pool.query('SELECT 1 FROM idempotency_keys WHERE user_id = $1', [userId])).rowCount ===
          1,
      );
      await world.pool.query(
        `UPDATE idempotency_keys SET created_at = created_at - interval '1 hour' WHERE user_id = $1`,
        [userId],
      );
      retry = await keys.claim(userId, 'key-lost', await requestHashOf(userId));

      // Act
      slow = await pending;
    } finally {
      world.stub.behaviour = 'ok';
    }

    // Assert
    expect(retry.kind).toBe('claimed');
    expect(slow.status).toBe(409);
    expect(slow.body.code).toBe('idempotency_request_in_flight');
    expect(await ordersOf(userId)).toBe(0);
    const { rows } = await world.pool.query('SELECT status FROM idempotency_keys WHERE user_id = $1', [
      userId,
    ]);
    expect(rows).toEqual([{ status: 'in_flight' }]);
  });

  test('many concurrent requests with one key create exactly one order', async () => {
    const userId = newUserId();
    const auth = await bearer(userId);

    const answers = await Promise.all(Array.from({ length: 8 }, () => post(auth, 'key-burst')));

    expect(await ordersOf(userId)).toBe(1);
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.every((status) => status === 201 || status === 409)).toBe(true);
    expect(
      answers.filter((answer) => answer.status === 201 && !answer.headers['idempotent-replayed']),
    ).toHaveLength(1);
  });

  test.each([
    ['a key longer than 200 characters', 'k'.repeat(201)],
    ['a key with spaces', 'a key'],
  ])('%s answers 422', async (_what, key) => {
    const response = await post(await bearer(newUserId()), key);

    expect(response.status).toBe(422);
    expect(response.body.errors).toEqual([expect.objectContaining({ path: 'headers.idempotency-key' })]);
  });
});
