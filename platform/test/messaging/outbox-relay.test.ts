import { QUEUES, type AnyEvent } from '@shop/contracts';
import { createOutboxRelay, type OutboxRelay } from '../../src/messaging';
import { createMetrics } from '../../src/observability';
import { createPgPool } from '../../src/pg';
import { commitToOutbox, createMessagingWorld, logger, type MessagingWorld } from './support/fixtures';
import { probeQueue, type QueueProbe } from './support/queue-probe';
import { buildOrderCreated, buildOrderStatusUpdated, eventually } from '../../src/testing';

const queue = QUEUES.productOrders;

describe('outbox relay', () => {
  let world: MessagingWorld;
  let probe: QueueProbe;
  const relays: OutboxRelay[] = [];

  beforeAll(async () => {
    world = await createMessagingWorld();
    probe = await probeQueue(world.vhost.url, queue);
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
    await world.pool.query('DELETE FROM outbox_events');
    probe.messages.length = 0;
  });
  afterAll(async () => {
    await probe.close();
    await world.teardown();
  });

  const newRelay = async (options: Partial<Parameters<typeof createOutboxRelay>[0]> = {}) => {
    const relay = createOutboxRelay({
      pool: world.pool,
      connection: await world.connect(),
      logger,
      pollIntervalMs: 50,
      backoff: { initialMs: 20, maxMs: 200 },
      ...options,
    });
    relays.push(relay);
    return relay;
  };
  const append = (count: number) =>
    commitToOutbox(
      world.database,
      Array.from({ length: count }, () => buildOrderCreated()),
    );
  const unpublishedCount = async () =>
    Number(
      (await world.pool.query('SELECT count(*) FROM outbox_events WHERE published_at IS NULL')).rows[0].count,
    );

  test('publishes committed rows in outbox order with CloudEvents properties, then marks them published', async () => {
    // Arrange
    const events = await append(30);
    const relay = await newRelay({ batchSize: 10, listen: false });

    // Act
    const published = [
      await relay.drainOnce(),
      await relay.drainOnce(),
      await relay.drainOnce(),
      await relay.drainOnce(),
    ];

    // Assert
    expect(published).toEqual([10, 10, 10, 0]);
    expect(await unpublishedCount()).toBe(0);
    await eventually(() => probe.messages.length === 30);
    expect(probe.ids()).toEqual(events.map((event) => event.id));
    const [first] = probe.messages;
    expect(first.properties).toMatchObject({
      messageId: events[0].id,
      type: 'OrderCreated',
      contentType: 'application/cloudevents+json',
      deliveryMode: 2,
      correlationId: events[0].correlationid,
    });
    expect(typeof first.properties.timestamp).toBe('number');
    expect(JSON.parse(first.content.toString())).toEqual(events[0]);
  });

  test('when started, it wakes on NOTIFY and publishes rows committed later', async () => {
    // Arrange: polling alone would take a minute, so only the notification can explain delivery.
    const relay = await newRelay({ pollIntervalMs: 60_000 });
    await relay.start();

    // Act
    const events = await append(3);

    // Assert
    await eventually(() => probe.messages.length === 3, { timeoutMs: 5_000 });
    expect(probe.ids()).toEqual(events.map((event) => event.id));
  });

  test('a row committed while an earlier batch awaits its confirms is published without waiting for them', async () => {
    // Arrange: the first message's confirm is held back until the test releases it.
    const connection = await world.connect();
    let releaseConfirm!: () => void;
    const confirmHeld = new Promise<void>((resolve) => (releaseConfirm = resolve));
    let held = false;
    const holdingConnection: typeof connection = {
      ...connection,
      createChannel: (options) => {
        const channel = connection.createChannel(options);
        const publish = channel.publish.bind(channel);
        channel.publish = (...args: Parameters<typeof publish>) => {
          const confirmed = publish(...args);
          if (held) return confirmed;
          held = true;
          return confirmed.then(async (value) => {
            await confirmHeld;
            return value;
          });
        };
        return channel;
      },
    };
    const relay = await newRelay({ connection: holdingConnection, pollIntervalMs: 60_000 });
    await relay.start();
    const [first] = await append(1);
    await eventually(() => probe.messages.length === 1, { timeoutMs: 5_000 });

    // Act
    const [second] = await append(1);

    // Assert
    try {
      await eventually(() => probe.messages.length === 2, { timeoutMs: 5_000 });
      expect(probe.ids()).toEqual([first.id, second.id]);
    } finally {
      releaseConfirm();
    }
    await eventually(async () => (await unpublishedCount()) === 0, { timeoutMs: 5_000 });
  });

  test('two relays over one outbox publish each of 500 rows exactly once', async () => {
    // Arrange
    const events = await append(500);
    const first = await newRelay({ batchSize: 25, window: 10 });
    const second = await newRelay({ batchSize: 25, window: 10 });

    // Act
    await Promise.all([first.start(), second.start()]);

    // Assert: once both have stopped nothing more can be published; a marker published after
    // that arrives behind every copy they sent, so waiting for it shows all there is to see.
    await eventually(async () => (await unpublishedCount()) === 0);
    await Promise.all([first.stop(), second.stop()]);
    const [marker] = await append(1);
    await (await newRelay({ listen: false })).drainOnce();
    await eventually(() => probe.ids().includes(marker.id), { description: 'the marker published' });
    const ids = probe.ids();
    expect(ids).toHaveLength(501);
    expect(ids.at(-1)).toBe(marker.id);
    expect(new Set(ids.slice(0, 500))).toEqual(new Set(events.map((event) => event.id)));
  });

  test('a mark the database refuses keeps the whole batch unpublished and its connection usable, and the next batch publishes it', async () => {
    // Arrange: a pool in pipeline mode, as every service's, so the mark and its COMMIT go out together;
    // one connection, so the next batch runs on the one the refused mark left behind.
    await append(3);
    await world.pool.query(`CREATE FUNCTION refuse_mark() RETURNS trigger LANGUAGE plpgsql
                              AS $$ BEGIN RAISE EXCEPTION 'mark refused'; END $$`);
    await world.pool.query(`CREATE TRIGGER refuse_mark BEFORE UPDATE OF published_at ON outbox_events
                              FOR EACH ROW EXECUTE FUNCTION refuse_mark()`);
    const dropTrigger = () =>
      world.pool.query(
        'DROP TRIGGER IF EXISTS refuse_mark ON outbox_events; DROP FUNCTION IF EXISTS refuse_mark()',
      );
    const pool = createPgPool(world.db.url, { max: 1, logger });
    try {
      const relay = await newRelay({ pool, listen: false });

      // Act
      const refused = await relay.drainOnce().then(
        () => undefined,
        (error: Error) => error,
      );
      const unpublishedAfterRefusal = await unpublishedCount();
      await dropTrigger();
      const publishedNext = await relay.drainOnce();

      // Assert
      expect(refused?.message).toContain('mark refused');
      expect(unpublishedAfterRefusal).toBe(3);
      expect(publishedNext).toBe(3);
      expect(await unpublishedCount()).toBe(0);
    } finally {
      // Also when the test failed early: the trigger would refuse every later test's marks.
      await dropTrigger();
      await Promise.all(relays.splice(0).map((relay) => relay.stop()));
      await pool.end();
    }
  });

  describe('one order’s events', () => {
    /** An order's OrderCreated and then `updates` OrderStatusUpdated, sequences 0, 1, 2, … */
    const orderEvents = (updates: number) => {
      const created = buildOrderCreated();
      const orderId = created.data.order_id;
      return [
        created,
        ...Array.from({ length: updates }, (_, index) =>
          buildOrderStatusUpdated({ order_id: orderId }, { sequence: index + 1 }),
        ),
      ];
    };
    /** Holds `eventId`'s outbox row locked, as a relay's batch in flight does, until `release()`. */
    const holdRow = async (eventId: string) => {
      const client = await world.pool.connect();
      await client.query('BEGIN');
      await client.query('SELECT 1 FROM outbox_events WHERE id = $1 FOR UPDATE', [eventId]);
      return {
        release: async () => {
          await client.query('COMMIT');
          client.release();
        },
      };
    };
    const isPublished = async (eventId: string) =>
      (
        await world.pool.query(
          'SELECT published_at IS NOT NULL AS published FROM outbox_events WHERE id = $1',
          [eventId],
        )
      ).rows[0].published as boolean;

    /**
     * Commits `orders` orders' events as orders placed `together` at a time move side by side: one
     * transaction per step of a group, so each order's next row lies `together` rows after its last.
     */
    const commitOrdersSideBySide = async (orders: number, together: number, updates: number) => {
      const all: AnyEvent[][] = [];
      for (let placed = 0; placed < orders; placed += together) {
        const group = Array.from({ length: together }, () => orderEvents(updates));
        all.push(...group);
        for (let step = 0; step <= updates; step++) {
          await commitToOutbox(
            world.database,
            group.map((events) => events[step]),
          );
        }
      }
      return all;
    };

    test.each([
      ['two', 2],
      ['three', 3],
    ])(
      '%s relays over one outbox publish every row of 60 orders once, each order’s events in sequence order',
      async (_name, relayCount) => {
        // Arrange: an order's rows 5 apart and batches of 7, so every batch reaches into the next
        // step of orders whose previous step is in the batch claimed just before it — in flight
        // (another relay's, or this relay's own pipelined one) unless already published, and then
        // held back. With all 60 orders side by side (60 apart) no earlier row would still be in
        // flight and nothing would be held back. A window of 5 spreads each batch's publishes over
        // several confirm round trips, so batches of different relays reach the broker interleaved.
        const orders = await commitOrdersSideBySide(60, 5, 4);
        const metrics = createMetrics();
        const running = await Promise.all(
          Array.from({ length: relayCount }, () =>
            newRelay({ batchSize: 7, window: 5, pipeline: 2, metrics }),
          ),
        );

        // Act
        await Promise.all(running.map((relay) => relay.start()));
        await eventually(async () => (await unpublishedCount()) === 0, {
          description: 'every row published',
        });
        await Promise.all(running.map((relay) => relay.stop()));

        // Assert: once they have stopped nothing more can be published; a marker published after
        // that arrives behind every copy they sent, so waiting for it shows all there is to see.
        const [marker] = await append(1);
        await (await newRelay({ listen: false })).drainOnce();
        await eventually(() => probe.ids().includes(marker.id), { description: 'the marker published' });
        const arrived = probe.messages
          .slice(0, -1)
          .map((message) => JSON.parse(message.content.toString()) as AnyEvent);
        expect(probe.ids().at(-1)).toBe(marker.id);
        expect(arrived.map((event) => event.id).sort()).toEqual(
          orders
            .flat()
            .map((event) => event.id)
            .sort(),
        );
        const sequencesByOrder = new Map<string, number[]>();
        for (const event of arrived) {
          sequencesByOrder.set(event.subject, [
            ...(sequencesByOrder.get(event.subject) ?? []),
            event.sequence,
          ]);
        }
        expect(sequencesByOrder).toEqual(
          new Map(orders.map(([created]) => [created.subject, [0, 1, 2, 3, 4]])),
        );
        expect((await metrics.relayHeldBack.get()).values[0]?.value ?? 0).toBeGreaterThan(0);
      },
    );

    test('a row waits while an earlier row of its order is held by another batch, then both go out in order', async () => {
      // Arrange
      const [created, updated] = await commitToOutbox(world.database, orderEvents(1));
      const [other] = await append(1);
      const inFlight = await holdRow(created.id);
      const relay = await newRelay({ listen: false });

      // Act
      const whileHeld = await relay.drainOnce();
      const updatedPublishedWhileHeld = await isPublished(updated.id);
      await inFlight.release();
      const afterwards = await relay.drainOnce();

      // Assert
      expect(whileHeld).toBe(1);
      expect(updatedPublishedWhileHeld).toBe(false);
      expect(afterwards).toBe(2);
      await eventually(() => probe.messages.length === 3);
      expect(probe.ids()).toEqual([other.id, created.id, updated.id]);
    });

    test('a running relay that could publish only held-back rows publishes them once the earlier row is free, without waiting for its poll', async () => {
      // Arrange: a poll a minute away; nothing else wakes it (no LISTEN, nothing committed later).
      const [created, updated] = await commitToOutbox(world.database, orderEvents(1));
      const inFlight = await holdRow(created.id);
      const metrics = createMetrics();
      const relay = await newRelay({ listen: false, pollIntervalMs: 60_000, metrics });
      await relay.start();
      const heldBack = async () => (await metrics.relayHeldBack.get()).values[0]?.value ?? 0;
      try {
        await eventually(async () => (await heldBack()) > 0, {
          description: 'the relay held the second row back',
        });
      } finally {
        // Act (also when the wait failed: a held row lock would hang afterEach's DELETE)
        await inFlight.release();
      }

      // Assert
      await eventually(() => probe.messages.length === 2, { timeoutMs: 5_000 });
      expect(probe.ids()).toEqual([created.id, updated.id]);
    });
  });
});
