import type { QueueSpec } from '@shop/contracts';
import { connect } from 'amqplib';
import { createDatabase, type Database } from '../../src/database';
import { createPgPool } from '../../src/pg';
import {
  declareTopology,
  inTransactionOnce,
  inTransactionOnceEach,
  type Consumer,
  type ConsumerOptions,
  type HandlerContext,
} from '../../src/messaging';
import { buildOrderCreated, buildOrderStatusUpdated, eventually } from '../../src/testing';
import {
  createMessagingWorld,
  logger,
  startTestConsumer,
  type MessagingTables,
  type MessagingWorld,
} from './support/fixtures';
import { probeQueue } from './support/queue-probe';

/** The effect table this file's handlers write: one row per event, with the inbox row. */
type EffectsTable = { effects: { event_id: string; order_id: number } };
type Tables = MessagingTables & EffectsTable;

const queueFor = (name: string): QueueSpec => ({
  name: `test.batch.${name}`,
  bindings: [{ exchange: 'orders', routingKey: `${name}.#` }],
});

describe('inbox consumer with a batch handler', () => {
  let world: MessagingWorld;
  let database: Database<Tables>;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    world = await createMessagingWorld();
    await world.pool.query('CREATE TABLE effects (event_id uuid PRIMARY KEY, order_id int NOT NULL)');
    database = createDatabase<Tables>(createPgPool(world.db.url, { max: 10, logger }));
  });
  afterEach(() => Promise.all(consumers.splice(0).map((consumer) => consumer.stop())));
  afterAll(async () => {
    await database.destroy();
    await world.teardown();
  });

  /** Puts `bodies` in the queue before anyone consumes it, so they are delivered together. */
  const queueUp = async (queue: QueueSpec, bodies: string[]) => {
    const model = await connect(world.vhost.url);
    const channel = await model.createConfirmChannel();
    await declareTopology(channel, [queue]);
    for (const body of bodies) channel.sendToQueue(queue.name, Buffer.from(body), { persistent: true });
    await channel.waitForConfirms();
    await model.close();
  };
  /** Ten OrderCreated put in a queue of their own before anyone consumes it. */
  const tenOrdersQueued = async (name: string) => {
    const queue = queueFor(name);
    const events = Array.from({ length: 10 }, () => buildOrderCreated());
    await queueUp(
      queue,
      events.map((event) => JSON.stringify(event)),
    );
    return { queue, events };
  };
  const queueDepth = async (queue: string) => {
    const model = await connect(world.vhost.url);
    try {
      return (await (await model.createChannel()).checkQueue(queue)).messageCount;
    } finally {
      await model.close();
    }
  };

  /** What of an event the effect writes. */
  type EffectOf = { id: string; data: { order_id: number } };
  const insertEffect = (tx: Database<Tables>, event: EffectOf) =>
    tx.insertInto('effects').values({ event_id: event.id, order_id: event.data.order_id });
  /** The one-at-a-time handler a service keeps beside its batch handler. */
  const applyOne = (event: EffectOf, context: HandlerContext) =>
    inTransactionOnce(database, context.claim, async (tx) => {
      await insertEffect(tx, event).execute();
      return 'applied' as const;
    });
  /** The batch handler: every event's effect and claim in one transaction (`inTransactionOnceEach`). */
  const applyAll = async (batch: readonly { event: EffectOf; context: HandlerContext }[]) =>
    (
      await inTransactionOnceEach(database, batch, {
        claim: ({ context }) => context.claim,
        write: (tx, { event }) => ({ writes: [insertEffect(tx, event)] }),
      })
    ).map((outcome) => (outcome === 'duplicate' ? ('duplicate' as const) : ('applied' as const)));

  const startConsumer = (
    queue: QueueSpec,
    options: Pick<ConsumerOptions, 'handlers'> & Partial<ConsumerOptions>,
  ) =>
    startTestConsumer(world, consumers, {
      queue,
      prefetch: 10,
      maxAttempts: 2,
      backoff: { initialMs: 10, maxMs: 50 },
      ...options,
    });
  const effectsOf = async (ids: string[]) =>
    (
      await world.pool.query<{ event_id: string; n: number }>(
        'SELECT event_id, count(*)::int AS n FROM effects WHERE event_id = ANY($1::uuid[]) GROUP BY event_id',
        [ids],
      )
    ).rows;

  test('deliveries that arrive together are applied in one call, each once, and every one is acked', async () => {
    // Arrange
    const { queue, events } = await tenOrdersQueued('together');
    const batchSizes: number[] = [];

    // Act
    await startConsumer(queue, {
      handlers: { OrderCreated: applyOne },
      batch: {
        maxSize: 10,
        handle: async (batch) => {
          batchSizes.push(batch.length);
          return applyAll(batch);
        },
      },
    });

    // Assert
    await eventually(async () => (await effectsOf(events.map((event) => event.id))).length === 10, {
      description: 'every event applied',
    });
    expect(Math.max(...batchSizes)).toBeGreaterThan(1);
    expect((await effectsOf(events.map((event) => event.id))).every((effect) => effect.n === 1)).toBe(true);
    await eventually(async () => (await queueDepth(queue.name)) === 0, {
      description: 'every delivery acked',
    });
  });

  test("no more handler calls run at once than the consumer's concurrency, however many deliveries it holds", async () => {
    // Arrange: ten deliveries in the queue, a prefetch of ten, room for two transactions.
    const { queue } = await tenOrdersQueued('concurrency');
    let running = 0;
    let most = 0;
    const handled: string[] = [];

    // Act
    await startConsumer(queue, {
      concurrency: 2,
      handlers: {
        OrderCreated: async (event) => {
          running++;
          most = Math.max(most, running);
          await new Promise((resolve) => setTimeout(resolve, 20));
          running--;
          handled.push(event.id);
        },
      },
    });

    // Assert
    await eventually(() => handled.length === 10, { description: 'every event handled' });
    expect(most).toBe(2);
  });

  test('events of a type the batch does not take go to their handler one at a time', async () => {
    // Arrange
    const queue = queueFor('types');
    const created = Array.from({ length: 5 }, () => buildOrderCreated());
    const updated = Array.from({ length: 5 }, (_, index) =>
      buildOrderStatusUpdated({
        order_id: created[index]!.data.order_id,
        from_status: 'pending',
        to_status: 'confirmed',
      }),
    );
    await queueUp(
      queue,
      created.flatMap((event, index) => [JSON.stringify(event), JSON.stringify(updated[index])]),
    );
    const batched: string[] = [];
    const alone: string[] = [];

    // Act
    await startConsumer(queue, {
      handlers: {
        OrderCreated: async (event) => void alone.push(event.type),
        OrderStatusUpdated: async (event) => void alone.push(event.type),
      },
      batch: {
        maxSize: 10,
        handles: ['OrderCreated'],
        handle: async (batch) => batch.map(({ event }) => void batched.push(event.type)),
      },
    });

    // Assert
    await eventually(() => batched.length + alone.length === 10, { description: 'every event handled' });
    expect(new Set(batched)).toEqual(new Set(['OrderCreated']));
    expect(alone.filter((type) => type === 'OrderStatusUpdated')).toHaveLength(5);
  });

  test('when a batch fails, its events are taken one at a time: the one that fails is dead-lettered alone, the others take effect once, and a message that breaks the contract is dead-lettered as ever', async () => {
    // Arrange: one event's write always fails (a NOT NULL column left null), in a batch or alone.
    const queue = queueFor('fails');
    const events = Array.from({ length: 8 }, () => buildOrderCreated());
    const poisoned = events[3]!;
    const failingWrite = (event: EffectOf) =>
      event.id === poisoned.id ? { ...event, data: { order_id: null as unknown as number } } : event;
    await queueUp(queue, [
      ...events.slice(0, 5).map((event) => JSON.stringify(event)),
      '{not json',
      ...events.slice(5).map((event) => JSON.stringify(event)),
    ]);
    const dlq = await probeQueue(world.vhost.url, `${queue.name}.dlq`);
    const batched: string[] = [];

    // Act
    await startConsumer(queue, {
      handlers: { OrderCreated: (event, context) => applyOne(failingWrite(event), context) },
      batch: {
        maxSize: 10,
        handle: async (batch) => {
          batched.push(...batch.map(({ event }) => event.id));
          return applyAll(batch.map((delivery) => ({ ...delivery, event: failingWrite(delivery.event) })));
        },
      },
    });

    // Assert
    await eventually(() => dlq.messages.length === 2, { description: 'the two bad messages dead-lettered' });
    expect(dlq.messages.map((message) => message.content.toString()).sort()).toEqual(
      ['{not json', JSON.stringify(poisoned)].sort(),
    );
    const good = events.filter((event) => event !== poisoned).map((event) => event.id);
    await eventually(async () => (await effectsOf(good)).length === good.length, {
      description: 'every other event applied',
    });
    expect((await effectsOf(good)).every((effect) => effect.n === 1)).toBe(true);
    expect(await effectsOf([poisoned.id])).toEqual([]);
    expect(batched).toContain(poisoned.id);
    await eventually(async () => (await queueDepth(queue.name)) === 0, {
      description: 'every delivery settled',
    });
    await dlq.close();
  });
});
