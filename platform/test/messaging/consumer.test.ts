import type { QueueSpec } from '@shop/contracts';
import { inTransaction } from '../../src/database';
import {
  claimInbox,
  createBrokerConnection,
  createConsumer,
  type Consumer,
  type ConsumerOptions,
  type EventHandler,
} from '../../src/messaging';
import { createMessagingWorld, logger, startTestConsumer, type MessagingWorld } from './support/fixtures';
import { probeQueue, publishRaw } from './support/queue-probe';
import { buildOrderCreated, capturingLogger, createTcpProxy, eventually } from '../../src/testing';

/** Each test gets its own queue, bound to its own routing keys, so tests never see each other's messages. */
const queueFor = (name: string): QueueSpec => ({
  name: `test.${name}`,
  bindings: [{ exchange: 'orders', routingKey: `${name}.#` }],
});

/** The effect table this file's handlers write, next to the outbox and inbox. */
type EffectsTable = {
  effects: { event_id: string; order_id: number };
};

describe('inbox consumer', () => {
  let world: MessagingWorld;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    world = await createMessagingWorld();
    await world.pool.query('CREATE TABLE effects (event_id uuid NOT NULL, order_id int NOT NULL)');
  });
  afterEach(() => Promise.all(consumers.splice(0).map((consumer) => consumer.stop())));
  afterAll(() => world.teardown());

  const startConsumer = (options: Pick<ConsumerOptions, 'queue' | 'handlers'> & Partial<ConsumerOptions>) =>
    startTestConsumer(world, consumers, options);

  /** The effect a real service would apply: one row per order, recorded with the inbox row in one transaction. */
  const applyOnce: EventHandler<'OrderCreated'> = (event, context) =>
    inTransaction(world.database.withTables<EffectsTable>(), async (tx) => {
      if (!(await claimInbox(tx, context.consumer, event.id))) return 'duplicate';
      await tx.insertInto('effects').values({ event_id: event.id, order_id: event.data.order_id }).execute();
      return 'applied';
    });
  const effectsOf = async (eventId: string) =>
    Number(
      (await world.pool.query('SELECT count(*) FROM effects WHERE event_id = $1', [eventId])).rows[0].count,
    );

  test('a duplicated delivery has one effect, and both copies are acked', async () => {
    // Arrange
    const queue = queueFor('duplicate');
    const outcomes: string[] = [];
    await startConsumer({
      queue,
      handlers: {
        OrderCreated: async (event, context) => {
          const outcome = await applyOnce(event, context);
          outcomes.push(outcome ?? 'applied');
          return outcome;
        },
      },
    });
    const dlq = await probeQueue(world.vhost.url, `${queue.name}.dlq`);
    const event = buildOrderCreated();

    // Act
    await publishRaw(world.vhost.url, 'orders', 'duplicate.order.created', JSON.stringify(event));
    await publishRaw(world.vhost.url, 'orders', 'duplicate.order.created', JSON.stringify(event));

    // Assert
    await eventually(() => outcomes.length === 2, { description: 'both copies handled' });
    // Both copies are settled by now; a poison marker sent after them is dead-lettered behind
    // anything they sent to the DLQ, so once it is there the DLQ holds all it ever will of them.
    await publishRaw(world.vhost.url, 'orders', 'duplicate.marker', 'marker: not an event');
    await eventually(() => dlq.messages.length > 0, { description: 'the marker dead-lettered' });
    expect(outcomes).toEqual(['applied', 'duplicate']);
    expect(await effectsOf(event.id)).toBe(1);
    expect(dlq.messages.map((message) => message.content.toString())).toEqual(['marker: not an event']);
    await dlq.close();
  });

  test('poison messages (bad JSON, unknown type, schema violation) land in the DLQ and the next good message is still handled', async () => {
    // Arrange
    const queue = queueFor('poison');
    const handled: string[] = [];
    await startConsumer({ queue, handlers: { OrderCreated: async (event) => void handled.push(event.id) } });
    const dlq = await probeQueue(world.vhost.url, `${queue.name}.dlq`);
    const good = buildOrderCreated();
    const unknownType = {
      ...buildOrderCreated(),
      type: 'OrderTeleported',
      dataschema: 'urn:shop:events:OrderTeleported:1',
    };
    const schemaViolation = { ...buildOrderCreated(), data: { order_id: 'not-a-number' } };

    // Act
    await publishRaw(world.vhost.url, 'orders', 'poison.x', '{not json');
    await publishRaw(world.vhost.url, 'orders', 'poison.x', JSON.stringify(unknownType));
    await publishRaw(world.vhost.url, 'orders', 'poison.x', JSON.stringify(schemaViolation));
    await publishRaw(world.vhost.url, 'orders', 'poison.x', JSON.stringify(good));

    // Assert
    await eventually(() => dlq.messages.length === 3 && handled.length === 1);
    expect(handled).toEqual([good.id]);
    expect(dlq.messages.map((message) => message.content.toString())).toEqual([
      '{not json',
      JSON.stringify(unknownType),
      JSON.stringify(schemaViolation),
    ]);
    await dlq.close();
  });

  test('a handler that keeps failing is retried maxAttempts times, then its message is dead-lettered', async () => {
    // Arrange
    const queue = queueFor('failing');
    let attempts = 0;
    await startConsumer({
      queue,
      maxAttempts: 3,
      handlers: {
        OrderCreated: async () => {
          attempts++;
          throw new Error('database unavailable');
        },
      },
    });
    const dlq = await probeQueue(world.vhost.url, `${queue.name}.dlq`);
    const event = buildOrderCreated();

    // Act
    await publishRaw(world.vhost.url, 'orders', 'failing.order.created', JSON.stringify(event));

    // Assert
    await eventually(() => dlq.messages.length === 1);
    expect(attempts).toBe(3);
    expect(JSON.parse(dlq.messages[0].content.toString()).id).toBe(event.id);
    await dlq.close();
  });

  test('stopping a consumer with several messages waiting to be retried wakes every one of them, instead of waiting out their backoff', async () => {
    // Arrange: three messages failing at once, each then waiting ten minutes to be tried again.
    const queue = queueFor('stop-while-waiting');
    const failed = new Set<string>();
    const consumer = await startConsumer({
      queue,
      maxAttempts: 5,
      backoff: { initialMs: 600_000, maxMs: 600_000 },
      handlers: {
        OrderCreated: async (event) => {
          failed.add(event.id);
          throw new Error('not now');
        },
      },
    });
    for (let i = 0; i < 3; i++)
      await publishRaw(
        world.vhost.url,
        'orders',
        'stop-while-waiting.order.created',
        JSON.stringify(buildOrderCreated()),
      );
    await eventually(() => failed.size === 3, { description: 'all three failed once' });

    // Act and assert: stop() returns within the test's timeout (one woken wait would leave two for ten minutes).
    await consumer.stop();
    expect(failed.size).toBe(3);
  });

  test('a handler that fails once succeeds on retry and the message is acked, not dead-lettered', async () => {
    // Arrange
    const queue = queueFor('flaky');
    let attempts = 0;
    await startConsumer({
      queue,
      handlers: {
        OrderCreated: async (event, context) => {
          if (++attempts === 1) throw new Error('deadlock detected');
          return applyOnce(event, context);
        },
      },
    });
    const event = buildOrderCreated();

    // Act
    await publishRaw(world.vhost.url, 'orders', 'flaky.order.created', JSON.stringify(event));

    // Assert
    await eventually(async () => (await effectsOf(event.id)) === 1);
    expect(attempts).toBe(2);
  });

  test('after the broker closes its connection, the consumer resumes by itself', async () => {
    // Arrange
    const queue = queueFor('reconnect');
    const handled: string[] = [];
    await startConsumer({ queue, handlers: { OrderCreated: async (event) => void handled.push(event.id) } });
    const before = buildOrderCreated();
    await publishRaw(world.vhost.url, 'orders', 'reconnect.order.created', JSON.stringify(before));
    await eventually(() => handled.length === 1);

    // Act
    await world.vhost.closeConnections();
    const after = buildOrderCreated();
    await publishRaw(world.vhost.url, 'orders', 'reconnect.order.created', JSON.stringify(after));

    // Assert
    await eventually(() => handled.includes(after.id));
    expect(handled).toEqual([before.id, after.id]);
  });

  test('a consumer started while the broker is unreachable starts consuming once it is reachable', async () => {
    // Arrange
    const proxy = await createTcpProxy('127.0.0.1', 5672);
    await proxy.cut();
    const { logger: connectionLogger, lines } = capturingLogger('warn');
    const failedConnects = () =>
      lines.filter((line) => line.message === 'broker connect failed, retrying').length;
    const connection = createBrokerConnection({
      url: proxy.url(world.vhost.url),
      logger: connectionLogger,
      reconnect: { initialMs: 20, maxMs: 100 },
    });
    const queue = queueFor('late-broker');
    const handled: string[] = [];
    const consumer = createConsumer({
      connection,
      queue,
      logger,
      handlers: { OrderCreated: async (event) => void handled.push(event.id) },
    });

    // Act
    consumer.start();
    await eventually(() => failedConnects() >= 2, { description: 'two connection attempts refused' });
    const connectedWhileDown = connection.isConnected();
    await proxy.restore();
    await consumer.waitUntilConsuming(10_000);
    const event = buildOrderCreated();
    await publishRaw(world.vhost.url, 'orders', 'late-broker.order.created', JSON.stringify(event));

    // Assert
    expect(connectedWhileDown).toBe(false);
    await eventually(() => handled.length === 1);
    expect(handled).toEqual([event.id]);
    await consumer.stop();
    await connection.close();
    await proxy.close();
  });
});
