import type { AnyEvent } from '@shop/contracts';
import { sql } from 'kysely';
import { Pool, type PoolClient } from 'pg';
import { createDatabase, inTransaction, type Database } from '../../src/database';
import {
  claimInbox,
  createBrokerConnection,
  createConsumer,
  createOutboxRelay,
  type BrokerConnection,
  type Consumer,
  type OutboxRelay,
} from '../../src/messaging';
import { createMetrics, type Metrics } from '../../src/observability/metrics';
import { createPgPool } from '../../src/pg';
import {
  buildOrderCreated,
  capturingLogger,
  collectEscapedErrors,
  createTcpProxy,
  createTestDatabase,
  createTestVhost,
  eventually,
  terminateConnections,
  type TestDatabase,
  type TestVhost,
} from '../../src/testing';
import {
  commitToOutbox as commitInOneTry,
  logger,
  OUTBOX_INBOX_SQL,
  type MessagingTables,
} from '../messaging/support/fixtures';
import { probeQueue, publishRaw, type QueueProbe } from '../messaging/support/queue-probe';

/** outbox-inbox.sql and the effect this file's handlers apply. */
interface Tables extends MessagingTables {
  effects: { event_id: string };
}

/**
 * What a Postgres failover or restart does to a process (issue 9 §2): every connection of this
 * file's database is terminated with pg_terminate_backend while the code under test holds it.
 * Nothing may escape as an unhandled 'error' — in production that ends the process.
 */
describe('when the database terminates our connections', () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let pool: Pool;
  let database: Database<Tables>;
  const escaped = collectEscapedErrors();
  const connections: BrokerConnection[] = [];
  const relays: OutboxRelay[] = [];
  const consumers: Consumer[] = [];
  const probes: QueueProbe[] = [];

  beforeAll(async () => {
    [db, vhost] = await Promise.all([
      createTestDatabase({ sql: [OUTBOX_INBOX_SQL, 'CREATE TABLE effects (event_id uuid NOT NULL)'] }),
      createTestVhost(),
    ]);
    pool = createPgPool(db.url, { max: 10, logger });
    database = createDatabase<Tables>(pool);
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
    await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
    await Promise.all(probes.splice(0).map((probe) => probe.close()));
    await Promise.allSettled(connections.splice(0).map((connection) => connection.close()));
    await pool.query('TRUNCATE effects, outbox_events');
  });
  afterAll(async () => {
    await database.destroy();
    await Promise.allSettled([db.drop(), vhost.drop()]);
  });

  const connect = async () => {
    const connection = createBrokerConnection({
      url: vhost.url,
      logger,
      reconnect: { initialMs: 50, maxMs: 300 },
    });
    connections.push(connection);
    await connection.waitForConnect(10_000);
    return connection;
  };
  const escapedMessages = escaped.messages;

  /**
   * Commits the events to the outbox through the pool under test, retrying while the database
   * drops connections; a COMMIT whose answer was lost is recognised by its rows being there.
   */
  async function commitToOutbox(events: AnyEvent[]): Promise<void> {
    const ids = events.map((event) => event.id);
    for (;;) {
      try {
        await commitInOneTry(database, events);
        return;
      } catch {
        const committed = await pool
          .query('SELECT count(*)::int AS n FROM outbox_events WHERE id = ANY($1::uuid[])', [ids])
          .then(({ rows }) => rows[0].n === ids.length)
          .catch(() => false);
        if (committed) return;
      }
    }
  }

  /** The effect a service would apply: one row per event, recorded with its inbox row in one transaction. */
  const applyOnce = (through: Database<Tables>) => ({
    OrderCreated: (event: AnyEvent, context: { consumer: string }) =>
      inTransaction(through, async (tx) => {
        if (!(await claimInbox(tx, context.consumer, event.id))) return 'duplicate' as const;
        await tx.insertInto('effects').values({ event_id: event.id }).execute();
        return 'applied' as const;
      }),
  });
  const counter = async (metric: Metrics['eventsDeadLettered'] | Metrics['eventsFailed']) =>
    (await metric.get()).values.reduce((sum, value) => sum + value.value, 0);
  const unpublished = async () =>
    Number((await pool.query('SELECT count(*) FROM outbox_events WHERE published_at IS NULL')).rows[0].count);

  const effectCounts = async () =>
    (
      await pool.query<{ event_id: string; n: number }>(
        'SELECT event_id, count(*)::int AS n FROM effects GROUP BY event_id',
      )
    ).rows;
  const effectTotal = async () => Number((await pool.query('SELECT count(*) FROM effects')).rows[0].count);

  test('a transaction whose connection is terminated mid-way rejects, and no error escapes the process', async () => {
    // Arrange
    const work = inTransaction(database, async (tx) => {
      await sql`SELECT 'mid-way' AS step`.execute(tx);
      await terminateConnections(db.url, { queryContains: 'mid-way' });
      await sql`SELECT 1`.execute(tx);
    });

    // Act
    const outcome = await work.then(
      () => 'committed',
      (error: Error) => error.message,
    );
    await pool.query('SELECT 1');

    // Assert
    expect(outcome).not.toBe('committed');
    expect(escapedMessages()).toEqual([]);
  });

  describe('the instant a pool hands a client out', () => {
    /**
     * A connection that dies between the pool handing the client out and its borrower's next line:
     * the pool has removed its own listener, and a promise resolves a microtask later — after the
     * rest of the socket's buffer (say, a ReadyForQuery and then the server's FATAL) was parsed.
     */
    const dieOnNextAcquire = (target: Pool) =>
      target.once('acquire', (client: PoolClient) =>
        queueMicrotask(() => client.emit('error', new Error('Connection terminated unexpectedly'))),
      );

    test('inTransaction on any pool keeps a dying client from ending the process', async () => {
      // Arrange
      const bare = new Pool({ connectionString: db.url, max: 1 });
      await bare.query('SELECT 1');
      const overBare = createDatabase<Tables>(bare);
      dieOnNextAcquire(bare);

      // Act
      const outcome = await inTransaction(
        overBare,
        async (tx) => (await sql<{ one: number }>`SELECT 1 AS one`.execute(tx)).rows[0]!.one,
      ).catch((error: Error) => error.message);
      await overBare.destroy();

      // Assert
      expect([1, 'Connection terminated unexpectedly']).toContain(outcome);
      expect(escapedMessages()).toEqual([]);
    });

    test('a createPgPool client borrowed with a bare pool.connect() does not end the process either', async () => {
      // Arrange: what a library holding its own clients does (Kysely's pg driver, for one).
      const service = createPgPool(db.url, { max: 1, logger });
      await service.query('SELECT 1');
      dieOnNextAcquire(service);

      // Act
      const client = await service.connect();
      await new Promise((resolve) => setImmediate(resolve));
      client.release(true);
      await service.end();

      // Assert
      expect(escapedMessages()).toEqual([]);
    });
  });

  test('when every connection is terminated in rounds while events flow, the relay and consumer carry on and each event takes effect once', async () => {
    // Arrange
    const metrics = createMetrics();
    const queue = { name: 'test.database-loss', bindings: [{ exchange: 'orders', routingKey: 'order.#' }] };
    const consumer = createConsumer({
      connection: await connect(),
      queue,
      logger,
      metrics,
      // Two attempts: a lost connection that counted as a handler failure would dead-letter at once.
      maxAttempts: 2,
      backoff: { initialMs: 10, maxMs: 100 },
      handlers: applyOnce(database),
    });
    consumers.push(consumer);
    consumer.start();
    await consumer.waitUntilConsuming(10_000);
    const relay = createOutboxRelay({
      pool,
      connection: await connect(),
      logger,
      metrics,
      batchSize: 10,
      pollIntervalMs: 50,
      backoff: { initialMs: 20, maxMs: 200 },
    });
    relays.push(relay);
    await relay.start();
    const events: AnyEvent[] = [];

    // Act: batches keep coming while every connection is cut, once some effect landed since the last cut.
    const writing = (async () => {
      for (let batch = 0; batch < 30; batch++) {
        const next = Array.from({ length: 5 }, () => buildOrderCreated());
        await commitToOutbox(next);
        events.push(...next);
      }
    })();
    let rounds = 0;
    for (let applied = 0; rounds < 6; rounds++) {
      const before = applied;
      await eventually(async () => (applied = await effectTotal().catch(() => before)) > before, {
        timeoutMs: 15_000,
      });
      await terminateConnections(db.url);
    }
    await writing;

    // Assert
    await eventually(async () => (await effectTotal().catch(() => 0)) >= events.length, {
      timeoutMs: 20_000,
    });
    const counts = await effectCounts();
    expect(counts.filter((row) => row.n !== 1)).toEqual([]);
    expect(new Set(counts.map((row) => row.event_id))).toEqual(new Set(events.map((event) => event.id)));
    await eventually(async () => (await unpublished()) === 0);
    await relay.stop();
    relays.splice(0);
    await consumer.stop();
    consumers.splice(0);
    expect(await counter(metrics.eventsDeadLettered)).toBe(0);
    expect(escapedMessages()).toEqual([]);
  });

  test('the relay listens again after losing its LISTEN connection, so a commit wakes it without polling', async () => {
    // Arrange
    const probe = await probeQueue(vhost.url, {
      name: 'test.database-loss.listen',
      bindings: [{ exchange: 'orders', routingKey: 'order.#' }],
    });
    probes.push(probe);
    // Polling so slow that only a NOTIFY can explain a prompt publish.
    const relay = createOutboxRelay({ pool, connection: await connect(), logger, pollIntervalMs: 600_000 });
    relays.push(relay);
    await relay.start();
    const listenerPid = async () =>
      (
        await pool.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'",
        )
      ).rows.map((row) => row.pid);
    await eventually(async () => (await listenerPid()).length === 1);
    const [before] = await listenerPid();

    // Act
    await terminateConnections(db.url, { queryContains: 'LISTEN' });
    await eventually(async () => {
      const pids = await listenerPid().catch(() => []);
      return pids.length === 1 && pids[0] !== before;
    });
    const [event] = [buildOrderCreated()];
    await commitToOutbox([event!]);

    // Assert
    await eventually(() => probe.ids().includes(event!.id), { timeoutMs: 10_000 });
    expect(escapedMessages()).toEqual([]);
  });

  describe('when the database is unreachable for a while', () => {
    test('the consumer retries its events without dead-lettering them, the relay backs off, and both resume when it is back', async () => {
      // Arrange: consumer and relay reach the database through a hop the test cuts.
      const proxy = await createTcpProxy('127.0.0.1', Number(new URL(db.url).port || 5432));
      const proxied = createPgPool(proxy.url(db.url), { max: 5, logger });
      const overProxy = createDatabase<Tables>(proxied);
      try {
        const metrics = createMetrics();
        const queue = {
          name: 'test.database-unreachable',
          bindings: [{ exchange: 'orders', routingKey: 'order.#' }],
        };
        const consumer = createConsumer({
          connection: await connect(),
          queue,
          logger,
          metrics,
          maxAttempts: 2,
          backoff: { initialMs: 10, maxMs: 100 },
          handlers: applyOnce(overProxy),
        });
        consumers.push(consumer);
        consumer.start();
        await consumer.waitUntilConsuming(10_000);
        const relay = createOutboxRelay({
          pool: proxied,
          connection: await connect(),
          logger,
          metrics,
          pollIntervalMs: 50,
          backoff: { initialMs: 20, maxMs: 200 },
        });
        relays.push(relay);
        await relay.start();
        const before = [buildOrderCreated()];
        await commitToOutbox(before);
        await eventually(async () => (await effectTotal()) === 1 && (await unpublished()) === 0);

        // Act: while it is away, events reach the consumer straight from the broker, and rows wait in the outbox.
        await proxy.cut();
        const fromBroker = Array.from({ length: 5 }, () => buildOrderCreated());
        for (const event of fromBroker)
          await publishRaw(vhost.url, 'orders', 'order.created', JSON.stringify(event));
        const fromOutbox = Array.from({ length: 5 }, () => buildOrderCreated());
        await commitToOutbox(fromOutbox);
        // Each event from the broker fails more often than maxAttempts allows (or, wrongly, is dead-lettered).
        await eventually(
          async () =>
            (await counter(metrics.eventsFailed)) >= 3 * fromBroker.length ||
            (await counter(metrics.eventsDeadLettered)) > 0,
        );
        const deadLetteredWhileAway = await counter(metrics.eventsDeadLettered);
        const waitingInOutbox = await unpublished();
        await proxy.restore();

        // Assert
        expect(deadLetteredWhileAway).toBe(0);
        expect(waitingInOutbox).toBe(fromOutbox.length);
        const all = [...before, ...fromBroker, ...fromOutbox].map((event) => event.id);
        await eventually(async () => (await effectTotal()) >= all.length, { timeoutMs: 15_000 });
        await eventually(async () => (await unpublished()) === 0);
        const counts = await effectCounts();
        expect(counts.filter((row) => row.n !== 1)).toEqual([]);
        expect(new Set(counts.map((row) => row.event_id))).toEqual(new Set(all));
        expect(await counter(metrics.eventsDeadLettered)).toBe(0);
        expect(escapedMessages()).toEqual([]);
      } finally {
        await Promise.all(relays.splice(0).map((relay) => relay.stop()));
        await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
        await overProxy.destroy();
        await proxy.close();
      }
    });
    test('the relay, backing off for longer than the outage, resumes as soon as its LISTEN connection is back', async () => {
      // Arrange: a backoff far longer than the test may wait, so only a wake-up can explain a publish.
      const proxy = await createTcpProxy('127.0.0.1', Number(new URL(db.url).port || 5432));
      const proxied = createPgPool(proxy.url(db.url), { max: 3, logger });
      const { logger: relayLogger, lines } = capturingLogger('warn');
      try {
        const probe = await probeQueue(vhost.url, {
          name: 'test.database-loss.resume',
          bindings: [{ exchange: 'orders', routingKey: 'order.#' }],
        });
        probes.push(probe);
        const relay = createOutboxRelay({
          pool: proxied,
          connection: await connect(),
          logger: relayLogger,
          pollIntervalMs: 50,
          backoff: { initialMs: 600_000, maxMs: 600_000 },
        });
        relays.push(relay);
        await relay.start();
        await proxy.cut();
        await eventually(() =>
          lines.some((line) => line.message === 'outbox relay cannot reach the database, backing off'),
        );
        const [event] = [buildOrderCreated()];
        await commitToOutbox([event!]);

        // Act
        await proxy.restore();

        // Assert
        await eventually(() => probe.ids().includes(event!.id), { timeoutMs: 15_000 });
        expect(escapedMessages()).toEqual([]);
      } finally {
        await Promise.all(relays.splice(0).map((relay) => relay.stop()));
        await proxied.end();
        await proxy.close();
      }
    });
  });
});
