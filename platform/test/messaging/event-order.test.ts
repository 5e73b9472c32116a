import type { AnyEvent, EventType, QueueSpec } from '@shop/contracts';
import type { Generated } from 'kysely';
import { randomUUID } from 'node:crypto';
import {
  claimInbox,
  inTransactionOnce,
  PermanentHandlerError,
  type Consumer,
  type ConsumerOptions,
  type EventHandler,
  type EventHandlers,
} from '../../src/messaging';
import {
  buildOrderCreated,
  buildOrderStatusUpdated,
  buildTestEvent,
  capturingLogger,
  eventually,
} from '../../src/testing';
import { createMessagingWorld, startTestConsumer, type MessagingWorld } from './support/fixtures';
import { probeQueue, publishRaw } from './support/queue-probe';

/**
 * SPEC §6 "Ordering": each order's events take effect in `sequence` order (and after their cause)
 * however they are delivered; an event that cannot be processed holds back only its own order's
 * later events, which go to the DLQ with it.
 */

/** The effect this file's handlers apply, numbered in the order they committed. */
type AppliedTable = { applied: { n: Generated<number>; event_id: string; order_id: number; type: string } };

const queueFor = (name: string): QueueSpec => ({
  name: `test.order.${name}`,
  bindings: [
    { exchange: 'orders', routingKey: `${name}.#` },
    { exchange: 'inventory', routingKey: `${name}.#` },
  ],
});

describe('a consumer applies each order’s events in order', () => {
  let world: MessagingWorld;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    world = await createMessagingWorld();
    await world.pool.query(
      'CREATE TABLE applied (n serial PRIMARY KEY, event_id uuid NOT NULL, order_id int NOT NULL, type text NOT NULL)',
    );
  });
  afterEach(() => Promise.all(consumers.splice(0).map((consumer) => consumer.stop())));
  afterAll(() => world.teardown());

  /** What a service's handler does: its effect and the inbox claim the consumer hands it, in one transaction. */
  const applyOnce: EventHandler<EventType> = (event, context) =>
    inTransactionOnce(world.database.withTables<AppliedTable>(), context.claim, async (tx) => {
      const orderId = (event.data as { order_id: number }).order_id;
      await tx
        .insertInto('applied')
        .values({ event_id: event.id, order_id: orderId, type: event.type })
        .execute();
      return 'applied' as const;
    });
  const handling = (types: EventType[], handler: EventHandler<EventType> = applyOnce): EventHandlers =>
    Object.fromEntries(types.map((type) => [type, handler]));
  const ALL: EventType[] = [
    'OrderCreated',
    'OrderStatusUpdated',
    'StockReserved',
    'StockReservationFailed',
    'StockReleased',
  ];

  const startConsumer = (options: Pick<ConsumerOptions, 'queue' | 'handlers'> & Partial<ConsumerOptions>) =>
    startTestConsumer(world, consumers, {
      logger: capturingLogger('error').logger,
      maxAttempts: 2,
      backoff: { initialMs: 10, maxMs: 20 },
      ...options,
    });
  const publish = (queue: QueueSpec, event: AnyEvent) =>
    publishRaw(
      world.vhost.url,
      event.source === '/order-service' ? 'orders' : 'inventory',
      `${queue.bindings[0]!.routingKey.replace('.#', '')}.${event.type}`,
      JSON.stringify(event),
    );
  const appliedOf = async (orderId: number) =>
    (
      await world.pool.query<{ event_id: string }>(
        'SELECT event_id FROM applied WHERE order_id = $1 ORDER BY n',
        [orderId],
      )
    ).rows.map((row) => row.event_id);
  const heldBack = (lines: Record<string, unknown>[], eventId: string) =>
    lines.some(
      (line) => line.message === 'event came before its turn, trying again' && line.event_id === eventId,
    );

  test('a status update delivered before its OrderCreated waits for it, then takes effect after it, once', async () => {
    const { logger, lines } = capturingLogger('info');
    const queue = queueFor('late-create');
    await startConsumer({ queue, handlers: handling(ALL), logger });
    const created = buildOrderCreated();
    const orderId = created.data.order_id;
    const confirmed = buildOrderStatusUpdated(
      { order_id: orderId, from_status: 'pending', to_status: 'confirmed' },
      { sequence: 1 },
    );

    await publish(queue, confirmed);
    await eventually(() => heldBack(lines, confirmed.id), { description: 'the update held back' });
    await publish(queue, created);

    await eventually(async () => expect(await appliedOf(orderId)).toHaveLength(2));
    expect(await appliedOf(orderId)).toEqual([created.id, confirmed.id]);
  });

  test('an event that only records itself, claimed outside a transaction, waits its turn all the same', async () => {
    const { logger, lines } = capturingLogger('info');
    const queue = queueFor('record-only');
    const handledInOrder: string[] = [];
    await startConsumer({
      queue,
      logger,
      handlers: {
        OrderCreated: async (event, context) => {
          const outcome = await applyOnce(event, context);
          handledInOrder.push(`${event.type}:${String(outcome)}`);
          return outcome;
        },
        // What a service does with an event it has no effect for: the inbox alone records it.
        OrderStatusUpdated: async (event, context) => {
          const outcome = (await claimInbox(world.database, context.claim)) ? 'ignored' : 'duplicate';
          handledInOrder.push(`${event.type}:${outcome}`);
          return outcome;
        },
      },
    });
    const created = buildOrderCreated();
    const confirmed = buildOrderStatusUpdated(
      { order_id: created.data.order_id, from_status: 'pending', to_status: 'confirmed' },
      { sequence: 1 },
    );

    await publish(queue, confirmed);
    await eventually(() => heldBack(lines, confirmed.id), { description: 'the update held back' });
    await publish(queue, created);

    await eventually(() => expect(handledInOrder).toHaveLength(2));
    expect(handledInOrder).toEqual(['OrderCreated:applied', 'OrderStatusUpdated:ignored']);
  });

  test('an event caused by one this consumer also handles waits for its cause: StockReserved before its OrderCreated', async () => {
    const { logger, lines } = capturingLogger('info');
    const queue = queueFor('late-cause');
    await startConsumer({ queue, handlers: handling(ALL), logger });
    const created = buildOrderCreated();
    const orderId = created.data.order_id;
    const reserved = buildTestEvent(
      'StockReserved',
      { order_id: orderId, items: [{ product_id: 1, quantity: 2 }] },
      { causationId: created.id },
    );

    await publish(queue, reserved);
    await eventually(() => heldBack(lines, reserved.id), { description: 'StockReserved held back' });
    await publish(queue, created);

    await eventually(async () => expect(await appliedOf(orderId)).toHaveLength(2));
    expect(await appliedOf(orderId)).toEqual([created.id, reserved.id]);
  });

  test('an event whose cause this consumer does not handle takes effect at once (the cause never comes here)', async () => {
    const queue = queueFor('foreign-cause');
    await startConsumer({
      queue,
      handlers: handling(['StockReserved', 'StockReservationFailed', 'StockReleased']),
    });
    const orderId = buildOrderCreated().data.order_id;
    const reserved = buildTestEvent(
      'StockReserved',
      { order_id: orderId, items: [{ product_id: 1, quantity: 2 }] },
      { causationId: randomUUID() },
    );

    await publish(queue, reserved);

    await eventually(async () => expect(await appliedOf(orderId)).toEqual([reserved.id]));
  });

  test('a cancel waits for the cause its reason names only when this consumer handles that cause: an expiry timer it never receives does not hold it', async () => {
    const queue = queueFor('cause-by-reason');
    await startConsumer({ queue, handlers: handling(ALL) });
    const created = buildOrderCreated();
    const orderId = created.data.order_id;
    const expired = buildOrderStatusUpdated(
      { order_id: orderId, from_status: 'pending', to_status: 'cancelled', reason: 'reservation_expired' },
      { sequence: 1, causationId: randomUUID() },
    );

    await publish(queue, created);
    await publish(queue, expired);

    await eventually(async () => expect(await appliedOf(orderId)).toEqual([created.id, expired.id]));
  });

  test('a poison event holds back only its own order: the other order goes on, and its later event goes to the DLQ with it', async () => {
    const queue = queueFor('poison');
    const poisoned = buildOrderCreated();
    const healthy = buildOrderCreated();
    const failsForPoisoned: EventHandler<EventType> = (event, context) => {
      if (event.id === poisoned.id) throw new PermanentHandlerError('this order cannot be handled');
      return applyOnce(event, context);
    };
    await startConsumer({ queue, handlers: handling(ALL, failsForPoisoned), orderWaitMs: 1_500 });
    const dlq = await probeQueue(world.vhost.url, `${queue.name}.dlq`);
    const cancelOf = (orderId: number) =>
      buildOrderStatusUpdated(
        { order_id: orderId, from_status: 'pending', to_status: 'cancelled' },
        { sequence: 1 },
      );
    const poisonedCancel = cancelOf(poisoned.data.order_id);
    const healthyCancel = cancelOf(healthy.data.order_id);

    for (const event of [poisoned, poisonedCancel, healthy, healthyCancel]) await publish(queue, event);

    await eventually(async () => expect(await appliedOf(healthy.data.order_id)).toHaveLength(2));
    expect(await appliedOf(healthy.data.order_id)).toEqual([healthy.id, healthyCancel.id]);
    const deadLettered = () =>
      dlq.messages.map((message) => (JSON.parse(message.content.toString()) as AnyEvent).id);
    await eventually(() => expect(deadLettered()).toHaveLength(2), {
      description: 'both of the poisoned order’s events dead-lettered',
    });
    expect(deadLettered()).toEqual([poisoned.id, poisonedCancel.id]);
    expect(await appliedOf(poisoned.data.order_id)).toEqual([]);
    await dlq.close();
  });

  test('a redelivered event that already took effect is a duplicate, wherever it stands', async () => {
    const outcomes: string[] = [];
    const queue = queueFor('redelivered');
    await startConsumer({
      queue,
      handlers: handling(ALL, async (event, context) => {
        const outcome = await applyOnce(event, context);
        outcomes.push(`${event.type}:${String(outcome)}`);
        return outcome;
      }),
    });
    const created = buildOrderCreated();
    const confirmed = buildOrderStatusUpdated(
      { order_id: created.data.order_id, from_status: 'pending', to_status: 'confirmed' },
      { sequence: 1 },
    );

    for (const event of [created, confirmed, confirmed, created]) await publish(queue, event);

    await eventually(() => expect(outcomes).toHaveLength(4));
    expect(outcomes).toEqual([
      'OrderCreated:applied',
      'OrderStatusUpdated:applied',
      'OrderStatusUpdated:duplicate',
      'OrderCreated:duplicate',
    ]);
    expect(await appliedOf(created.data.order_id)).toEqual([created.id, confirmed.id]);
  });

  test('an inbox with rows from before places were recorded lets through an order it has no place for (it may have begun before)', async () => {
    const consumerName = `test.order.legacy-${randomUUID()}`;
    // What converting such an inbox records (decision 36): its consumer had events without a place.
    await world.pool.query('INSERT INTO inbox_unordered_history (consumer) VALUES ($1)', [consumerName]);
    const queue = queueFor('legacy');
    await startConsumer({ queue, handlers: handling(ALL), consumerName });
    const orderId = buildOrderCreated().data.order_id;
    const shipped = buildOrderStatusUpdated(
      { order_id: orderId, from_status: 'confirmed', to_status: 'shipped' },
      { sequence: 2 },
    );
    const delivered = buildOrderStatusUpdated(
      { order_id: orderId, from_status: 'shipped', to_status: 'delivered' },
      { sequence: 3 },
    );

    await publish(queue, shipped);
    await eventually(async () => expect(await appliedOf(orderId)).toEqual([shipped.id]));
    await publish(queue, delivered);

    await eventually(async () => expect(await appliedOf(orderId)).toEqual([shipped.id, delivered.id]));
  });
});
