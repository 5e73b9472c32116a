import { Client } from 'pg';
import request from 'supertest';
import { parseEvent } from '@shop/contracts';
import { eventually } from '@shop/platform/testing';
import {
  adminBearer,
  bearer,
  buildOrderBody,
  createOrderWorld,
  newUserId,
  type OrderWorld,
} from '../support/order-world';

interface OutboxRow {
  type: string;
  aggregate_id: string;
  sequence: number;
  exchange: string;
  routing_key: string;
  payload: Record<string, unknown> & { data: Record<string, unknown> };
  headers: Record<string, unknown>;
  published_at: Date | null;
}

/** SPEC §6: a state change and its event row commit together or not at all. */
describe('the order outbox', () => {
  let world: OrderWorld;
  beforeAll(async () => {
    world = await createOrderWorld();
    // A failure that strikes after the order rows are written, inside the same transaction: the
    // outbox insert of any event for user 666 raises.
    await world.pool.query(`
      CREATE FUNCTION fail_for_user_666() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (NEW.payload->'data'->>'user_id') = '666' THEN RAISE EXCEPTION 'forced failure after the order insert'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER fail_for_user_666 BEFORE INSERT ON outbox_events FOR EACH ROW EXECUTE FUNCTION fail_for_user_666();`);
  });
  afterAll(() => world.teardown());

  /** Backends of this test's database that wait for a row lock (Postgres's own view). */
  const lockWaiters = async () =>
    Number(
      (
        await world.pool.query(
          `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        )
      ).rows[0].count,
    );

  const outboxOf = async (orderId: number) =>
    (
      await world.pool.query<OutboxRow>(
        'SELECT * FROM outbox_events WHERE aggregate_id = $1 ORDER BY position',
        [String(orderId)],
      )
    ).rows;

  test('placing an order writes one OrderCreated row with the order, its request id and traceparent', async () => {
    // Arrange
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

    // Act
    const response = await request(world.app)
      .post('/api/v1/orders')
      .set('Authorization', await bearer(newUserId()))
      .set('X-Request-Id', 'req-outbox-1')
      .set('traceparent', traceparent)
      .send(buildOrderBody());

    // Assert
    expect(response.status).toBe(201);
    const rows = await outboxOf(response.body.id);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({
      type: 'OrderCreated',
      sequence: 0,
      exchange: 'orders',
      routing_key: 'order.created',
      published_at: null,
    });
    expect(row.headers).toEqual({ traceparent });
    const parsed = parseEvent(row.payload);
    expect(parsed.ok).toBe(true);
    expect(row.payload).toMatchObject({
      source: '/order-service',
      subject: String(response.body.id),
      correlationid: 'req-outbox-1',
      traceparent,
    });
    expect(row.payload.data).toMatchObject({
      order_id: response.body.id,
      user_id: response.body.user_id,
      status: 'pending',
      total_amount: '205.48',
      created_at: response.body.created_at,
    });
    expect(row.payload.data.items).toEqual([
      {
        product_id: 1,
        product_name: 'Wireless Mouse',
        product_price: '25.99',
        quantity: 2,
        subtotal: '51.98',
      },
      {
        product_id: 2,
        product_name: 'Mechanical Keyboard',
        product_price: '153.50',
        quantity: 1,
        subtotal: '153.50',
      },
    ]);
  });

  const counts = async () =>
    (
      await world.pool.query(
        `SELECT (SELECT count(*)::int FROM orders) AS orders, (SELECT count(*)::int FROM order_items) AS items,
                (SELECT count(*)::int FROM outbox_events) AS events`,
      )
    ).rows[0];

  test.each([
    ['with an Idempotency-Key (in a transaction with the claim)', 'rolled-back'],
    ['without an Idempotency-Key (one statement, no transaction)', undefined],
  ])(
    'when writing the OrderCreated row fails %s, neither the order, its items nor its event remains',
    async (_how, idempotencyKey) => {
      // Arrange
      const before = await counts();

      // Act
      const post = request(world.app)
        .post('/api/v1/orders')
        .set('Authorization', await bearer(666));
      const response = await (idempotencyKey ? post.set('Idempotency-Key', idempotencyKey) : post).send(
        buildOrderBody(),
      );

      // Assert: and the key is free again, for a retry.
      expect(response.status).toBe(500);
      expect(await counts()).toEqual(before);
      const keys = await world.pool.query(`SELECT * FROM idempotency_keys WHERE user_id = 666`);
      expect(keys.rows).toHaveLength(0);
    },
  );

  test('a status change writes OrderStatusUpdated in the same transaction, with sequence = the new version', async () => {
    const created = await request(world.app)
      .post('/api/v1/orders')
      .set('Authorization', await bearer(newUserId()))
      .send(buildOrderBody());
    const admin = await adminBearer();

    await request(world.app)
      .patch(`/api/v1/orders/${created.body.id}/status`)
      .set('Authorization', admin)
      .set('X-Request-Id', 'req-confirm')
      .send({ status: 'confirmed' });
    const cancelled = await request(world.app)
      .patch(`/api/v1/orders/${created.body.id}/status`)
      .set('Authorization', admin)
      .send({ status: 'cancelled', reason: 'customer called' });

    const rows = await outboxOf(created.body.id);
    expect(rows.map((row) => [row.type, row.sequence, row.routing_key])).toEqual([
      ['OrderCreated', 0, 'order.created'],
      ['OrderStatusUpdated', 1, 'order.status_updated'],
      ['OrderStatusUpdated', 2, 'order.status_updated'],
    ]);
    expect(rows[1]!.payload.correlationid).toBe('req-confirm');
    expect(rows[1]!.payload.data).toMatchObject({
      order_id: created.body.id,
      from_status: 'pending',
      to_status: 'confirmed',
      reason: null,
    });
    expect(rows[2]!.payload.data).toMatchObject({
      from_status: 'confirmed',
      to_status: 'cancelled',
      reason: 'customer called',
      updated_at: cancelled.body.updated_at,
    });
    expect(rows.every((row) => parseEvent(row.payload).ok)).toBe(true);
    // The row carries the very updated_at its event and the answer do.
    const stored = await world.pool.query('SELECT updated_at FROM orders WHERE id = $1', [created.body.id]);
    expect(stored.rows[0].updated_at.toISOString()).toBe(cancelled.body.updated_at);
  });

  test('a status change that waited for another one holding the order carries a later updated_at than the change it followed', async () => {
    // Arrange: a session holds the order's row lock, as a concurrent change does until it commits.
    const created = await request(world.app)
      .post('/api/v1/orders')
      .set('Authorization', await bearer(newUserId()))
      .send(buildOrderBody());
    const session = new Client({ connectionString: world.database.url });
    await session.connect();
    let confirmed;
    let followed: Date;
    try {
      await session.query('BEGIN');
      await session.query('SELECT 1 FROM orders WHERE id = $1 FOR UPDATE', [created.body.id]);
      const pending = request(world.app)
        .patch(`/api/v1/orders/${created.body.id}/status`)
        .set('Authorization', await adminBearer())
        .send({ status: 'confirmed' })
        .then((response) => response);
      await eventually(async () => (await lockWaiters()) > 0);

      // Act: the session's change is made only once the PATCH waits, and commits.
      const changed = await session.query(
        'UPDATE orders SET updated_at = clock_timestamp() WHERE id = $1 RETURNING updated_at',
        [created.body.id],
      );
      followed = changed.rows[0].updated_at;
      await session.query('COMMIT');
      confirmed = await pending;
    } finally {
      await session.end();
    }

    // Assert
    expect(confirmed.status).toBe(200);
    expect(new Date(confirmed.body.updated_at).getTime()).toBeGreaterThanOrEqual(followed.getTime());
  });

  test('a rejected status change writes no event', async () => {
    const auth = await bearer(newUserId());
    const created = await request(world.app)
      .post('/api/v1/orders')
      .set('Authorization', auth)
      .send(buildOrderBody());

    const forbidden = await request(world.app)
      .patch(`/api/v1/orders/${created.body.id}/status`)
      .set('Authorization', auth)
      .send({ status: 'shipped' });
    const invalid = await request(world.app)
      .patch(`/api/v1/orders/${created.body.id}/status`)
      .set('Authorization', await adminBearer())
      .send({ status: 'delivered' });

    expect([forbidden.status, invalid.status]).toEqual([403, 400]);
    expect((await outboxOf(created.body.id)).map((row) => row.type)).toEqual(['OrderCreated']);
  });

  test('when writing the status event fails, the status change is rolled back too', async () => {
    // Arrange: an order of user 666 placed while the trigger is disabled.
    await world.pool.query('ALTER TABLE outbox_events DISABLE TRIGGER fail_for_user_666');
    const created = await request(world.app)
      .post('/api/v1/orders')
      .set('Authorization', await bearer(666))
      .send(buildOrderBody());
    await world.pool.query('ALTER TABLE outbox_events ENABLE TRIGGER fail_for_user_666');

    // Act
    const response = await request(world.app)
      .patch(`/api/v1/orders/${created.body.id}/status`)
      .set('Authorization', await adminBearer())
      .send({ status: 'confirmed' });

    // Assert
    expect(response.status).toBe(500);
    const { rows } = await world.pool.query('SELECT status, version FROM orders WHERE id = $1', [
      created.body.id,
    ]);
    expect(rows[0]).toEqual({ status: 'pending', version: 0 });
    expect((await outboxOf(created.body.id)).map((row) => row.type)).toEqual(['OrderCreated']);
  });
});
