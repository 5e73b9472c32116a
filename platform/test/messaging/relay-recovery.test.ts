import { QUEUES } from '@shop/contracts';
import { Pool, type PoolClient } from 'pg';
import { inTransaction } from '../../src/database';
import {
  claimInbox,
  createConsumer,
  createOutboxRelay,
  type Consumer,
  type OutboxRelay,
} from '../../src/messaging';
import { commitToOutbox, createMessagingWorld, logger, type MessagingWorld } from './support/fixtures';
import { probeQueue, type QueueProbe } from './support/queue-probe';
import {
  buildOrderCreated,
  capturingLogger,
  createTcpProxy,
  eventually,
  type TcpProxy,
} from '../../src/testing';

/**
 * A pool whose next "mark published" statement fails, as if the relay process died after the
 * broker confirmed but before its transaction committed. The fault is injected into each client
 * the pool opens, below the relay, whichever way the relay borrows it; the relay runs unchanged.
 */
function poolThatDiesBeforeMarking(url: string): { pool: Pool; armed: { value: boolean } } {
  const pool = new Pool({ connectionString: url, max: 3 });
  const armed = { value: true };
  pool.on('connect', (client: PoolClient) => {
    const query = client.query.bind(client) as (text: unknown, values?: unknown[]) => Promise<unknown>;
    Object.assign(client, {
      query: (text: unknown, values?: unknown[]) => {
        const sql = typeof text === 'string' ? text : (text as { text?: string } | undefined)?.text;
        if (armed.value && sql?.includes('SET published_at')) {
          armed.value = false;
          return Promise.reject(new Error('relay killed before marking'));
        }
        return query(text, values);
      },
    });
  });
  return { pool, armed };
}

/** The effect table this file's handler writes, next to the outbox and inbox. */
type EffectsTable = {
  effects: { event_id: string };
};

describe('outbox relay recovery', () => {
  let world: MessagingWorld;
  const relays: OutboxRelay[] = [];
  const consumers: Consumer[] = [];
  const probes: QueueProbe[] = [];

  beforeAll(async () => {
    world = await createMessagingWorld();
    await world.pool.query('CREATE TABLE effects (event_id uuid NOT NULL)');
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
    await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
    await Promise.all(probes.splice(0).map((probe) => probe.close()));
    await world.pool.query('DELETE FROM outbox_events');
  });
  afterAll(() => world.teardown());

  const unpublishedCount = async () =>
    Number(
      (await world.pool.query('SELECT count(*) FROM outbox_events WHERE published_at IS NULL')).rows[0].count,
    );
  const append = (count: number) =>
    commitToOutbox(
      world.database,
      Array.from({ length: count }, () => buildOrderCreated()),
    );

  test('a relay that dies between publishing and marking re-publishes, and an inbox consumer applies the effect once', async () => {
    // Arrange
    const deliveries: string[] = [];
    const consumer = createConsumer({
      connection: await world.connect(),
      queue: QUEUES.productOrders,
      logger,
      handlers: {
        OrderCreated: (event, context) =>
          inTransaction(world.database.withTables<EffectsTable>(), async (tx) => {
            deliveries.push(event.id);
            if (!(await claimInbox(tx, context.consumer, event.id))) return 'duplicate';
            await tx.insertInto('effects').values({ event_id: event.id }).execute();
            return 'applied';
          }),
      },
    });
    consumers.push(consumer);
    consumer.start();
    await consumer.waitUntilConsuming(10_000);
    const [event] = await append(1);
    const { pool, armed } = poolThatDiesBeforeMarking(world.db.url);
    const connection = await world.connect();
    const dying = createOutboxRelay({ pool, connection, logger, listen: false });

    // Act
    await expect(dying.drainOnce()).rejects.toThrow('relay killed before marking');
    await dying.stop();
    await pool.end();
    const restarted = createOutboxRelay({ pool: world.pool, connection, logger, listen: false });
    relays.push(restarted);
    const republished = await restarted.drainOnce();

    // Assert
    expect(armed.value).toBe(false);
    expect(republished).toBe(1);
    await eventually(() => deliveries.length === 2);
    expect(deliveries).toEqual([event.id, event.id]);
    const { rows } = await world.pool.query('SELECT count(*) FROM effects WHERE event_id = $1', [event.id]);
    expect(Number(rows[0].count)).toBe(1);
    expect(await unpublishedCount()).toBe(0);
  });

  describe('when the broker is unreachable', () => {
    let proxy: TcpProxy;
    beforeEach(async () => {
      proxy = await createTcpProxy('127.0.0.1', 5672);
    });
    afterEach(async () => {
      // Relays stop while the proxy still answers, as they would in a real shutdown.
      await Promise.all(relays.splice(0).map((relay) => relay.stop()));
      await proxy.close();
    });

    test('rows committed meanwhile wait in the outbox and all arrive once it is back', async () => {
      // Arrange
      const probe = await probeQueue(world.vhost.url, {
        name: 'test.outage',
        bindings: [{ exchange: 'orders', routingKey: '#' }],
      });
      probes.push(probe);
      const { logger: relayLogger, lines } = capturingLogger('info');
      const refusedToPublish = () =>
        lines.filter((line) => line.message === 'outbox relay cannot publish, backing off').length;
      const relay = createOutboxRelay({
        pool: world.pool,
        connection: await world.connect(proxy.url(world.vhost.url)),
        logger: relayLogger,
        pollIntervalMs: 50,
        publishTimeoutMs: 1_000,
        backoff: { initialMs: 20, maxMs: 200 },
      });
      relays.push(relay);
      await relay.start();
      const before = await append(5);
      await eventually(() => probe.messages.length === 5);

      // Act
      await proxy.cut();
      const during = await append(20);
      // The relay has had its chance at the rows: it tried twice after they were committed.
      const refusedBefore = refusedToPublish();
      await eventually(() => refusedToPublish() >= refusedBefore + 2, {
        description: 'two publish attempts refused while the broker is away',
      });
      const waitingWhileDown = await unpublishedCount();
      const deliveredWhileDown = probe.messages.length;
      await proxy.restore();

      // Assert
      expect(waitingWhileDown).toBe(20);
      expect(deliveredWhileDown).toBe(5);
      await eventually(async () => (await unpublishedCount()) === 0);
      await eventually(() => probe.messages.length >= 25);
      expect(new Set(probe.ids())).toEqual(new Set([...before, ...during].map((event) => event.id)));
      expect(probe.ids().slice(5)).toEqual(during.map((event) => event.id));
    });
  });
});
