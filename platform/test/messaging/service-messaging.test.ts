import type { QueueSpec } from '@shop/contracts';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import {
  createConsumer,
  createOutboxRelay,
  createServiceMessaging,
  type ServiceMessaging,
  type ServiceMessagingOptions,
} from '../../src/messaging';
import { commitToOutbox, createMessagingWorld, type MessagingWorld } from './support/fixtures';
import { buildOrderCreated, capturingLogger, eventually } from '../../src/testing';

const consumedQueue: QueueSpec = {
  name: 'test.service-messaging.orders',
  bindings: [{ exchange: 'orders', routingKey: 'order.created' }],
};
const declaredQueue: QueueSpec = {
  name: 'test.service-messaging.declared',
  bindings: [{ exchange: 'inventory', routingKey: 'stock.reserved' }],
};
// Nothing listens on port 1.
const UNREACHABLE_BROKER = 'amqp://guest:guest@127.0.0.1:1';
const WARNING = 'RabbitMQ not reachable yet; serving HTTP, consuming once it is';

describe('service messaging', () => {
  let world: MessagingWorld;
  let inspector: ChannelModel;
  let inspect: Channel;
  const running: ServiceMessaging[] = [];

  beforeAll(async () => {
    world = await createMessagingWorld();
    inspector = await connect(world.vhost.url);
    inspect = await inspector.createChannel();
  });
  afterEach(() => Promise.all(running.splice(0).map((messaging) => messaging.stop())));
  afterAll(async () => {
    await inspector.close();
    await world.teardown();
  });

  /** A service's messaging with one consumer (recording what it handles) and an outbox relay on the test database. */
  const serviceMessaging = (overrides: Partial<ServiceMessagingOptions> = {}) => {
    const { logger, lines } = capturingLogger();
    const handled: string[] = [];
    const messaging = createServiceMessaging({
      name: 'service-messaging-test',
      url: world.vhost.url,
      logger,
      startupWaitMs: 10_000,
      declareQueues: [declaredQueue],
      consumers: (connection) => [
        createConsumer({
          connection,
          queue: consumedQueue,
          logger,
          handlers: { OrderCreated: async (event) => void handled.push(event.id) },
        }),
      ],
      relay: (connection) =>
        createOutboxRelay({ pool: world.pool, connection, logger, pollIntervalMs: 50, listen: false }),
      ...overrides,
    });
    running.push(messaging);
    return { messaging, handled, warnings: () => lines.filter((line) => line.message === WARNING) };
  };

  test('when the broker is reachable, start resolves with the consumers consuming, the relay publishing, the declared queues present and the broker up', async () => {
    // Arrange
    const { messaging, handled, warnings } = serviceMessaging();
    const event = buildOrderCreated();

    // Act
    await messaging.start();
    await commitToOutbox(world.database, [event]);

    // Assert
    expect((await inspect.checkQueue(consumedQueue.name)).consumerCount).toBe(1);
    await eventually(() => handled.includes(event.id), { timeoutMs: 5_000 });
    expect((await inspect.checkQueue(declaredQueue.name)).consumerCount).toBe(0);
    expect(await messaging.brokerCheck()).toEqual({ status: 'up' });
    expect(warnings()).toEqual([]);
  });

  test('when the broker is unreachable, start resolves after the wait with a warning and the broker check is down with the service’s detail', async () => {
    // Arrange
    const { messaging, warnings } = serviceMessaging({
      url: UNREACHABLE_BROKER,
      startupWaitMs: 200,
      downDetail: 'not connected; events wait in the outbox',
    });

    // Act
    await messaging.start();

    // Assert
    expect(warnings()).toEqual([expect.objectContaining({ level: 'warn', wait_ms: 200 })]);
    expect(await messaging.brokerCheck()).toEqual({
      status: 'down',
      detail: 'not connected; events wait in the outbox',
    });
  });

  test('without a detail of its own, the broker check says "not connected" while the broker is away', async () => {
    // Arrange
    const { messaging } = serviceMessaging({ url: UNREACHABLE_BROKER, relay: undefined });

    // Act
    const check = await messaging.brokerCheck();

    // Assert
    expect(check).toEqual({ status: 'down', detail: 'not connected' });
  });

  test('stop detaches the consumers and closes the connection', async () => {
    // Arrange
    const { messaging } = serviceMessaging();
    await messaging.start();
    running.splice(running.indexOf(messaging), 1);

    // Act
    await messaging.stop();

    // Assert
    expect((await inspect.checkQueue(consumedQueue.name)).consumerCount).toBe(0);
    expect(await messaging.brokerCheck()).toEqual({ status: 'down', detail: 'not connected' });
  });
});
