import type { QueueSpec } from '@shop/contracts';
import type { Consumer, ConsumerOptions } from '../../src/messaging';
import { createMetrics, type Metrics } from '../../src/observability';
import { createMessagingWorld, startTestConsumer, type MessagingWorld } from '../messaging/support/fixtures';
import { publishRaw } from '../messaging/support/queue-probe';
import { buildOrderCreated, capturingLogger, eventually } from '../../src/testing';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

const queueFor = (name: string): QueueSpec => ({
  name: `test.observability.${name}`,
  bindings: [{ exchange: 'orders', routingKey: `obs-${name}.#` }],
});

const valueOf = async (metrics: Metrics, name: string, labels: Record<string, string>) =>
  (await metrics.registry.getSingleMetric(name)!.get()).values
    .filter((value) =>
      Object.entries(labels).every(([key, expected]) => String(value.labels[key]) === expected),
    )
    .reduce((sum, value) => sum + value.value, 0);

describe('consumer metrics and trace context (real RabbitMQ)', () => {
  let world: MessagingWorld;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    world = await createMessagingWorld();
  });
  afterEach(() => Promise.all(consumers.splice(0).map((consumer) => consumer.stop())));
  afterAll(() => world.teardown());

  const startConsumer = (options: Pick<ConsumerOptions, 'queue' | 'handlers' | 'logger' | 'metrics'>) =>
    startTestConsumer(world, consumers, {
      maxAttempts: 2,
      backoff: { initialMs: 10, maxMs: 20 },
      ...options,
    });

  test('an event with a traceparent is handled with trace_id on every consumer log line, and counted as applied', async () => {
    // Arrange
    const queue = queueFor('traced');
    const metrics = createMetrics();
    const { logger, lines } = capturingLogger();
    await startConsumer({
      queue,
      logger,
      metrics,
      handlers: {
        OrderCreated: async (_event, context) => {
          context.logger.info('handler says hello');
          return 'applied';
        },
      },
    });
    const event = { ...buildOrderCreated(), traceparent: TRACEPARENT };

    // Act
    await publishRaw(world.vhost.url, 'orders', 'obs-traced.created', JSON.stringify(event));

    // Assert
    await eventually(() => lines.some((line) => line.message === 'event handled'));
    const eventLines = lines.filter((line) => line.event_id === event.id);
    expect(eventLines.map((line) => line.message)).toEqual(['handler says hello', 'event handled']);
    for (const line of eventLines) expect(line.trace_id).toBe(TRACE_ID);
    expect(
      await valueOf(metrics, 'events_consumed_total', { type: 'OrderCreated', outcome: 'applied' }),
    ).toBe(1);
    expect(await metrics.registry.getSingleMetricAsString('consumer_processing_seconds')).toContain(
      'consumer_processing_seconds_count{type="OrderCreated"} 1',
    );
  });

  test('a failing handler counts each failure, then the dead-letter; a poison message counts by reason', async () => {
    // Arrange
    const queue = queueFor('failing');
    const metrics = createMetrics();
    const { logger, lines } = capturingLogger();
    await startConsumer({
      queue,
      logger,
      metrics,
      handlers: {
        OrderCreated: async () => {
          throw new Error('database on fire');
        },
      },
    });

    // Act
    await publishRaw(world.vhost.url, 'orders', 'obs-failing.created', JSON.stringify(buildOrderCreated()));
    await publishRaw(world.vhost.url, 'orders', 'obs-failing.created', '{not json');

    // Assert
    await eventually(
      () => lines.filter((line) => String(line.message).includes('dead-lettered')).length === 2,
    );
    expect(await valueOf(metrics, 'events_failed_total', { type: 'OrderCreated' })).toBe(2);
    expect(await valueOf(metrics, 'events_dead_lettered_total', { reason: 'handler_failed' })).toBe(1);
    expect(await valueOf(metrics, 'events_dead_lettered_total', { reason: 'invalid_json' })).toBe(1);
  });
});
