import { bearer, buildOrderBody, newUserId } from '../support/order-world';
import { createServiceWorld, type ServiceWorld } from '../support/service-world';

interface OutboxRow {
  payload: { type: string; traceparent: string | null };
  headers: Record<string, unknown>;
}

/**
 * The order service as main.ts runs it, with the relay switched off (RELAY_ENABLED=false) so that
 * nothing publishes the outbox: its rows simply age.
 */
describe('order-service: readiness, metrics and trace context', () => {
  let world: ServiceWorld;
  beforeAll(async () => {
    world = await createServiceWorld({
      RELAY_ENABLED: 'false',
      CONSUMERS_ENABLED: 'false',
      OUTBOX_MAX_LAG: '60',
    });
  });
  afterEach(() => world.pool.query('DELETE FROM outbox_events'));
  afterAll(() => world.teardown());

  const placeOrder = (headers: Record<string, string> = {}) =>
    bearer(newUserId()).then((authorization) =>
      fetch(`${world.baseUrl}/api/v1/orders`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(buildOrderBody()),
      }),
    );
  const orderCreatedOf = async (orderId: number) =>
    (
      await world.pool.query<OutboxRow>(
        `SELECT payload, headers FROM outbox_events WHERE aggregate_id = $1 AND type = 'OrderCreated'`,
        [String(orderId)],
      )
    ).rows[0]!;
  const insertUnpublishedRow = (age: string) =>
    world.pool.query(
      `INSERT INTO outbox_events (id, aggregate_type, aggregate_id, sequence, type, exchange, routing_key, payload, created_at)
       VALUES (gen_random_uuid(), 'order', '424242', 1, 'OrderCreated', 'orders', 'order.created', '{}', now() - $1::interval)`,
      [age],
    );

  test('/health/ready answers 200 when no unpublished outbox event is older than OUTBOX_MAX_LAG', async () => {
    // Arrange
    await insertUnpublishedRow('5 seconds');

    // Act
    const response = await fetch(`${world.baseUrl}/health/ready`);

    // Assert
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      checks: { database: { status: 'up' }, outbox: { status: 'up' } },
    });
  });

  test('/health/ready answers 503 when an unpublished outbox event is older than OUTBOX_MAX_LAG, /health stays up', async () => {
    // Arrange
    await insertUnpublishedRow('2 minutes');

    // Act
    const ready = await fetch(`${world.baseUrl}/health/ready`);
    const health = await fetch(`${world.baseUrl}/health`);

    // Assert
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'down', checks: { outbox: { status: 'down' } } });
    expect(health.status).toBe(200);
  });

  test('/metrics answers Prometheus text with the outbox backlog and the age of its oldest event', async () => {
    // Arrange
    await insertUnpublishedRow('2 minutes');
    await insertUnpublishedRow('1 second');

    // Act
    const response = await fetch(`${world.baseUrl}/metrics`);
    const text = await response.text();

    // Assert
    expect(response.status).toBe(200);
    expect(text).toContain('outbox_backlog{service="order-service"} 2');
    const age = Number(
      /outbox_oldest_unpublished_age_seconds\{service="order-service"\} ([\d.]+)/.exec(text)?.[1],
    );
    expect(age).toBeGreaterThanOrEqual(120);
  });

  test('a traceparent sent with POST /orders is carried by the OrderCreated envelope and its AMQP headers', async () => {
    // Arrange
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

    // Act
    const response = await placeOrder({ traceparent });

    // Assert
    expect(response.status).toBe(201);
    const row = await orderCreatedOf(((await response.json()) as { id: number }).id);
    expect(row.payload.traceparent).toBe(traceparent);
    expect(row.headers).toEqual({ traceparent });
  });

  test('an order placed without a traceparent gets a new trace, carried by its OrderCreated envelope', async () => {
    // Act
    const response = await placeOrder();

    // Assert
    expect(response.status).toBe(201);
    const row = await orderCreatedOf(((await response.json()) as { id: number }).id);
    expect(row.payload.traceparent).toMatch(/^00-[\da-f]{32}-[\da-f]{16}-01$/);
  });
});
