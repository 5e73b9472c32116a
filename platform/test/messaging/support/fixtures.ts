import type { AnyEvent } from '@shop/contracts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'pg';
import { createDatabase, inTransaction, type Database } from '../../../src/database';
import { createLogger } from '../../../src/logger';
import {
  appendToOutbox,
  createBrokerConnection,
  createConsumer,
  type BrokerConnection,
  type Consumer,
  type ConsumerOptions,
  type InboxTable,
  type OutboxTable,
} from '../../../src/messaging';
import { createTestDatabase, createTestVhost, type TestDatabase, type TestVhost } from '../../../src/testing';

export const OUTBOX_INBOX_SQL = readFileSync(join(__dirname, '../../../sql/outbox-inbox.sql'), 'utf8');
export const logger = createLogger('messaging-test');
// Dead-letter tests log errors on purpose; LOG_LEVEL=debug shows everything when a test needs reading.
logger.silent = !process.env.LOG_LEVEL;

/** The tables of outbox-inbox.sql, as Kysely sees them. */
export type MessagingTables = OutboxTable & InboxTable;

/** One database and one vhost per test file; everything opened through it is closed by `teardown`. */
export interface MessagingWorld {
  db: TestDatabase;
  vhost: TestVhost;
  /** For the relay and for raw assertions; `database` runs on it. */
  pool: Pool;
  /** What a service writes through: a test with tables of its own adds them with `withTables`. */
  database: Database<MessagingTables>;
  connect(url?: string): Promise<BrokerConnection>;
  teardown(): Promise<void>;
}

export async function createMessagingWorld(): Promise<MessagingWorld> {
  const [db, vhost] = await Promise.all([createTestDatabase({ sql: [OUTBOX_INBOX_SQL] }), createTestVhost()]);
  // In pipeline mode, as every service's pool (`createPgPool`): what the platform sends together is
  // sent together here too.
  const pool = new Pool({ connectionString: db.url, max: 10, pipeline: true });
  // `pool.end()` resolves once its clients are told to close, not once their sockets have: the
  // teardown's DROP DATABASE … WITH (FORCE) can end a backend first, and its "terminating connection"
  // error reaches the pool. Errors once the teardown has begun are expected; one before still fails
  // the file.
  let tearingDown = false;
  pool.on('error', (error) => {
    if (!tearingDown) throw error;
  });
  const database = createDatabase<MessagingTables>(pool);
  const connections: BrokerConnection[] = [];
  return {
    db,
    vhost,
    pool,
    database,
    connect: async (url = vhost.url) => {
      const connection = createBrokerConnection({ url, logger, reconnect: { initialMs: 50, maxMs: 300 } });
      connections.push(connection);
      await connection.waitForConnect(10_000);
      return connection;
    },
    teardown: async () => {
      tearingDown = true;
      await Promise.allSettled(connections.map((connection) => connection.close()));
      await database.destroy();
      // Kysely ends the pool only if it ran a query; a test that used only `pool` leaves it open, and
      // dropping the database under its idle clients would be an unhandled 'error' on the pool.
      if (!pool.ended) await pool.end();
      await Promise.allSettled([db.drop(), vhost.drop()]);
    },
  };
}

/** Commits `events` to the outbox in a transaction of their own, as a service commits its state change. */
export async function commitToOutbox<Tables extends OutboxTable, E extends AnyEvent>(
  database: Database<Tables>,
  events: E[],
): Promise<E[]> {
  await inTransaction(database, (tx) => appendToOutbox(tx, events, { aggregateType: 'order' }));
  return events;
}

/**
 * Starts a consumer on a connection of `world`'s, retrying quickly, and waits until it consumes. It
 * goes in `started`, which the test file's afterEach stops.
 */
export async function startTestConsumer(
  world: MessagingWorld,
  started: Consumer[],
  options: Pick<ConsumerOptions, 'queue' | 'handlers'> & Partial<ConsumerOptions>,
): Promise<Consumer> {
  const consumer = createConsumer({
    connection: await world.connect(),
    logger,
    maxAttempts: 3,
    backoff: { initialMs: 10, maxMs: 50 },
    ...options,
  });
  started.push(consumer);
  consumer.start();
  await consumer.waitUntilConsuming(10_000);
  return consumer;
}
