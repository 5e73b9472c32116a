import request from 'supertest';
import { parseEvent } from '@shop/contracts';
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

  test('when the transaction fails after the order insert, neither the order nor its event remains', async () => {
    // Arrange
    const before = await world.pool.query(
      'SELECT count(*)::int AS orders, (SELECT count(*)::int FROM outbox_events) AS events FROM orders',
    );

    // Act
    const response = await request(world.app)
      .post('/api/v1/orders')
      .set('Authorization', await bearer(666))
      .set('Idempotency-Key', 'rolled-back')
      .send(buildOrderBody());

    // Assert
    expect(response.status).toBe(500);
    const after = await world.pool.query(
      'SELECT count(*)::int AS orders, (SELECT count(*)::int FROM outbox_events) AS events FROM orders',
    );
    expect(after.rows[0]).toEqual(before.rows[0]);
    const items = await world.pool.query(
      'SELECT count(*)::int AS n FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.user_id = 666',
    );
    expect(items.rows[0].n).toBe(0);
    const keys = await world.pool.query(`SELECT * FROM idempotency_keys WHERE user_id = 666`);
    expect(keys.rows).toHaveLength(0);
  });

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
