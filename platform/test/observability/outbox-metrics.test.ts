import { QUEUES } from '@shop/contracts';
import { inTransaction, writeAll } from '../../src/database';
import { createOutboxRelay, scheduleWrite, type ScheduledEventsTable } from '../../src/messaging';
import {
  createMetrics,
  createOutboxProbe,
  outboxLagCheck,
  watchOutbox,
  type Metrics,
} from '../../src/observability';
import {
  commitToOutbox,
  createMessagingWorld,
  logger,
  type MessagingWorld,
} from '../messaging/support/fixtures';
import { probeQueue, type QueueProbe } from '../messaging/support/queue-probe';
import { buildOrderCreated } from '../../src/testing';

const valueOf = async (metrics: Metrics, name: string, labels: Record<string, string> = {}) => {
  const metric = metrics.registry.getSingleMetric(name);
  const values = (await metric!.get()).values.filter((value) =>
    Object.entries(labels).every(([key, expected]) => String(value.labels[key]) === expected),
  );
  return values.reduce((sum, value) => sum + value.value, 0);
};

describe('outbox and relay metrics (real Postgres and RabbitMQ)', () => {
  let world: MessagingWorld;
  let probe: QueueProbe;

  beforeAll(async () => {
    world = await createMessagingWorld();
    probe = await probeQueue(world.vhost.url, QUEUES.productOrders);
  });
  afterEach(() => world.pool.query('DELETE FROM outbox_events; DELETE FROM scheduled_events'));
  afterAll(async () => {
    await probe.close();
    await world.teardown();
  });

  const outboxProbe = () => createOutboxProbe(async (sql) => (await world.pool.query(sql)).rows);
  const append = (count: number) =>
    commitToOutbox(
      world.database,
      Array.from({ length: count }, () => buildOrderCreated()),
    );

  test('after the relay publishes N events, events_published_total grows by N and outbox_backlog goes to 0', async () => {
    // Arrange
    const metrics = createMetrics();
    watchOutbox(metrics, 'test-service', outboxProbe());
    await append(7);
    const relay = createOutboxRelay({
      pool: world.pool,
      connection: await world.connect(),
      logger,
      listen: false,
      metrics,
    });
    const before = await valueOf(metrics, 'events_published_total', { type: 'OrderCreated' });
    const backlogBefore = await metrics.registry.getSingleMetricAsString('outbox_backlog');

    // Act
    const published = await relay.drainOnce();
    await relay.stop();

    // Assert
    expect(published).toBe(7);
    expect(backlogBefore).toContain('outbox_backlog{service="test-service"} 7');
    expect((await valueOf(metrics, 'events_published_total', { type: 'OrderCreated' })) - before).toBe(7);
    expect(await valueOf(metrics, 'outbox_backlog', { service: 'test-service' })).toBe(0);
    expect(await valueOf(metrics, 'outbox_oldest_unpublished_age_seconds', { service: 'test-service' })).toBe(
      0,
    );
    const text = await metrics.registry.metrics();
    expect(text).toContain('relay_batch_size_count 1');
    expect(text).toContain('relay_publish_seconds_count 1');
  });

  test('the oldest unpublished age reports how long the oldest waiting row has waited', async () => {
    // Arrange
    const metrics = createMetrics();
    watchOutbox(metrics, 'test-service', outboxProbe());
    await append(2);
    await world.pool.query(
      `UPDATE outbox_events SET created_at = now() - interval '2 minutes'
        WHERE position = (SELECT min(position) FROM outbox_events)`,
    );

    // Act
    const age = await valueOf(metrics, 'outbox_oldest_unpublished_age_seconds', { service: 'test-service' });

    // Assert
    expect(age).toBeGreaterThanOrEqual(120);
    expect(age).toBeLessThan(180);
    expect(await valueOf(metrics, 'outbox_backlog', { service: 'test-service' })).toBe(2);
  });

  test('the outbox lag check is down beyond the limit and up within it', async () => {
    // Arrange
    await append(1);
    await world.pool.query(`UPDATE outbox_events SET created_at = now() - interval '2 minutes'`);

    // Act
    const strict = await outboxLagCheck(outboxProbe(), 60)();
    const lenient = await outboxLagCheck(outboxProbe(), 600)();

    // Assert
    expect(strict).toMatchObject({ status: 'down', detail: expect.stringMatching(/limit 60 s, backlog 1/) });
    expect(lenient).toEqual({ status: 'up' });
  });

  test('scheduled rows waiting for their time show as outbox_scheduled; one due that no relay moves shows as overdue and turns readiness down', async () => {
    // Arrange: two timers an hour away, one due two minutes ago, and no relay running.
    const metrics = createMetrics();
    watchOutbox(metrics, 'test-service', outboxProbe());
    const database = world.database.withTables<ScheduledEventsTable>();
    const { now } = (await world.pool.query<{ now: Date }>('SELECT now()')).rows[0]!;
    const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);
    await inTransaction(database, (tx) =>
      writeAll(tx, [
        scheduleWrite(tx, [buildOrderCreated(), buildOrderCreated()], {
          aggregateType: 'timer',
          deliverAt: at(3600),
        }),
        scheduleWrite(tx, [buildOrderCreated()], { aggregateType: 'timer', deliverAt: at(-120) }),
      ]),
    );

    // Act
    const scheduled = await valueOf(metrics, 'outbox_scheduled', { service: 'test-service' });
    const overdue = await valueOf(metrics, 'outbox_scheduled_overdue_seconds', { service: 'test-service' });
    const readiness = await outboxLagCheck(outboxProbe(), 60)();

    // Assert
    expect(scheduled).toBe(2);
    expect(overdue).toBeGreaterThanOrEqual(120);
    expect(readiness).toMatchObject({
      status: 'down',
      detail: expect.stringMatching(/scheduled event has been due/),
    });
  });
});
