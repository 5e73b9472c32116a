import { QUEUES, type QueueSpec } from '@shop/contracts';
import { connect, type Channel } from 'amqplib';
import {
  createConsumer,
  createOutboxRelay,
  declareTopology,
  type BrokerConnection,
} from '../../src/messaging';
import { commitToOutbox, createMessagingWorld, logger, type MessagingWorld } from './support/fixtures';
import { probeQueue, publishRaw } from './support/queue-probe';
import { buildOrderCreated, eventually } from '../../src/testing';

/**
 * What a service's messaging does on SIGTERM (SPEC §6 "Processes"): consumers stop taking
 * deliveries and settle the ones in hand, and the relay finishes the batch it is publishing.
 */
/** The connection, with a witness that resolves once the broker confirmed a consumer's cancel. */
function witnessCancel(connection: BrokerConnection): {
  connection: BrokerConnection;
  cancelled: Promise<void>;
} {
  let confirmed!: () => void;
  const cancelled = new Promise<void>((resolve) => (confirmed = resolve));
  return {
    cancelled,
    connection: {
      ...connection,
      createChannel: (options) =>
        connection.createChannel({
          ...options,
          setup: async (channel: Channel) => {
            const cancel = channel.cancel.bind(channel);
            channel.cancel = async (consumerTag) => {
              const ok = await cancel(consumerTag);
              confirmed();
              return ok;
            };
            await (options.setup as (channel: Channel) => Promise<void>)(channel);
          },
        }),
    },
  };
}

describe('messaging on shutdown', () => {
  let world: MessagingWorld;

  beforeAll(async () => {
    world = await createMessagingWorld();
  });
  afterAll(() => world.teardown());

  /** A queue as the broker sees it: ready messages and attached consumers (declared first if need be). */
  const queueState = async (queue: QueueSpec) => {
    const model = await connect(world.vhost.url);
    try {
      const channel = await model.createChannel();
      await declareTopology(channel, [queue]);
      const { messageCount, consumerCount } = await channel.checkQueue(queue.name);
      return { ready: messageCount, consumers: consumerCount };
    } finally {
      await model.close();
    }
  };

  test('a stopping consumer takes no more deliveries, finishes and acks the ones in hand, and leaves the rest in the queue', async () => {
    // Arrange
    const queue: QueueSpec = {
      name: 'test.shutdown',
      bindings: [{ exchange: 'orders', routingKey: 'shutdown.#' }],
    };
    await queueState(queue);
    const events = Array.from({ length: 8 }, () => buildOrderCreated());
    for (const event of events)
      await publishRaw(world.vhost.url, 'orders', 'shutdown.order.created', JSON.stringify(event));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const started: string[] = [];
    const finished: string[] = [];
    const { connection, cancelled } = witnessCancel(await world.connect());
    const consumer = createConsumer({
      connection,
      queue,
      logger,
      prefetch: 3,
      handlers: {
        OrderCreated: async (event) => {
          started.push(event.id);
          await released;
          finished.push(event.id);
        },
      },
    });
    consumer.start();
    await eventually(() => started.length === 3);

    // Act: the handlers in hand finish only after the broker confirmed the cancel (and a turn of
    // the event loop, in which a stop that did not wait for them would already close the channel).
    const stopped = consumer.stop();
    await cancelled;
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await stopped;

    // Assert
    expect(finished).toEqual(events.slice(0, 3).map((event) => event.id));
    expect(started).toEqual(finished);
    // Acked, so not redelivered: the queue holds exactly the five never delivered, in order, and
    // then the marker published after the stop.
    const marker = buildOrderCreated();
    await publishRaw(world.vhost.url, 'orders', 'shutdown.order.created', JSON.stringify(marker));
    const rest = await probeQueue(world.vhost.url, queue.name);
    const idsInQueue = () =>
      rest.messages.map((message) => (JSON.parse(message.content.toString()) as { id: string }).id);
    await eventually(() => idsInQueue().includes(marker.id), { description: 'the marker read back' });
    expect(idsInQueue()).toEqual([...events.slice(3).map((event) => event.id), marker.id]);
    await rest.close();
  });

  test('a stopping relay finishes the batch it is publishing: every row it published is marked, every marked row was published', async () => {
    // Arrange
    const queue = QUEUES.productOrders;
    await queueState(queue);
    const events = Array.from({ length: 3000 }, () => buildOrderCreated());
    await commitToOutbox(world.database, events);
    const relay = createOutboxRelay({
      pool: world.pool,
      connection: await world.connect(),
      logger,
      batchSize: 100,
      listen: false,
      pollIntervalMs: 50,
    });
    const marked = async () =>
      Number(
        (await world.pool.query('SELECT count(*) FROM outbox_events WHERE published_at IS NOT NULL')).rows[0]
          .count,
      );
    await relay.start();
    await eventually(async () => (await marked()) > 0);

    // Act
    await relay.stop();

    // Assert
    const published = await marked();
    expect(published).toBeLessThan(events.length);
    expect(published % 100).toBe(0);
    expect((await queueState(queue)).ready).toBe(published);
  });
});
