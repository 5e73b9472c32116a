import { QUEUES, type AnyEvent } from '@shop/contracts';
import { inTransaction, writeAll } from '../../src/database';
import {
  createOutboxRelay,
  scheduleWrite,
  type OutboxRelay,
  type ScheduledEventsTable,
} from '../../src/messaging';
import { buildOrderCreated, eventually } from '../../src/testing';
import { createMessagingWorld, logger, type MessagingWorld } from './support/fixtures';
import { probeQueue, type QueueProbe } from './support/queue-probe';

/**
 * SPEC §6 "Scheduled events": an outbox row may carry a delivery time; the relay publishes it when
 * due, never before, with the guarantees of any outbox row.
 */
describe('scheduled outbox rows', () => {
  let world: MessagingWorld;
  let probe: QueueProbe;
  const relays: OutboxRelay[] = [];

  beforeAll(async () => {
    world = await createMessagingWorld();
    probe = await probeQueue(world.vhost.url, QUEUES.productOrders);
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
    await world.pool.query('DELETE FROM outbox_events; DELETE FROM scheduled_events');
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
      backoff: { initialMs: 20, maxMs: 200 },
      ...options,
    });
    relays.push(relay);
    return relay;
  };
  /** Commits `events` to be delivered at `deliverAt`, as a service schedules them with its change. */
  const schedule = async (deliverAt: Date, events: AnyEvent[] = [buildOrderCreated()]) => {
    const database = world.database.withTables<ScheduledEventsTable>();
    await inTransaction(database, (tx) =>
      writeAll(tx, [scheduleWrite(tx, events, { aggregateType: 'order_timer', deliverAt })]),
    );
    return events;
  };
  const databaseNow = async () => (await world.pool.query<{ now: Date }>('SELECT now()')).rows[0]!.now;
  const inSeconds = (from: Date, seconds: number) => new Date(from.getTime() + seconds * 1000);
  const scheduledIds = async () =>
    (await world.pool.query<{ id: string }>('SELECT id FROM scheduled_events')).rows.map((row) => row.id);

  test('a row due later is not published while a due one is; once its time comes it is published once', async () => {
    const now = await databaseNow();
    const [later] = await schedule(inSeconds(now, 3600));
    const [due] = await schedule(inSeconds(now, -1));
    const relay = await newRelay({ listen: false });

    const movedFirst = await relay.releaseDueOnce();
    const publishedFirst = await relay.drainOnce();
    await eventually(() => probe.ids().includes(due!.id), { description: 'the due row published' });
    const stillScheduled = await scheduledIds();
    // The hour passes: the row's time is now behind the database's clock.
    await world.pool.query("UPDATE scheduled_events SET deliver_at = now() - interval '1 second'");
    const movedSecond = await relay.releaseDueOnce();
    const publishedSecond = await relay.drainOnce();
    const movedThird = await relay.releaseDueOnce();

    expect({ movedFirst, publishedFirst, stillScheduled }).toEqual({
      movedFirst: 1,
      publishedFirst: 1,
      stillScheduled: [later!.id],
    });
    expect({ movedSecond, publishedSecond, movedThird }).toEqual({
      movedSecond: 1,
      publishedSecond: 1,
      movedThird: 0,
    });
    await eventually(() => probe.ids().length === 2);
    expect(probe.ids()).toEqual([due!.id, later!.id]);
    expect(await scheduledIds()).toEqual([]);
  });

  test('a running relay publishes a row soon after it falls due, never before, with nothing committed to wake it', async () => {
    const relay = await newRelay({ listen: false, pollIntervalMs: 50 });
    await relay.start();
    const deliverAt = inSeconds(await databaseNow(), 0.5);
    const [timer] = await schedule(deliverAt);

    await eventually(() => probe.ids().includes(timer!.id), { description: 'the timer published' });
    const receivedAt = Date.now();

    // The database and this process read the same machine clock.
    expect(receivedAt).toBeGreaterThanOrEqual(deliverAt.getTime());
    expect(probe.ids()).toEqual([timer!.id]);
  });

  test('two relays move 300 due rows between them, each exactly once', async () => {
    const due = inSeconds(await databaseNow(), -1);
    const events = await schedule(
      due,
      Array.from({ length: 300 }, () => buildOrderCreated()),
    );
    const [first, second] = [await newRelay({ listen: false }), await newRelay({ listen: false })];

    const moved = await Promise.all([first.releaseDueOnce(), second.releaseDueOnce()]);
    while ((await first.drainOnce()) > 0);

    expect(moved[0] + moved[1]).toBe(300);
    expect(await scheduledIds()).toEqual([]);
    await eventually(() => probe.ids().length === 300);
    expect(new Set(probe.ids())).toEqual(new Set(events.map((event) => event.id)));
  });
});
