import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool, type PoolClient } from 'pg';
import { createLogger } from '../../../src/logger';
import { createBrokerConnection, type BrokerConnection } from '../../../src/messaging';
import { createTestDatabase, createTestVhost, type TestDatabase, type TestVhost } from '../../../src/testing';

export const OUTBOX_INBOX_SQL = readFileSync(join(__dirname, '../../../sql/outbox-inbox.sql'), 'utf8');
export const logger = createLogger('messaging-test');
// Dead-letter tests log errors on purpose; LOG_LEVEL=debug shows everything when a test needs reading.
logger.silent = !process.env.LOG_LEVEL;

/** One database and one vhost per test file; everything opened through it is closed by `teardown`. */
export interface MessagingWorld {
  db: TestDatabase;
  vhost: TestVhost;
  pool: Pool;
  connect(url?: string): Promise<BrokerConnection>;
  teardown(): Promise<void>;
}

export async function createMessagingWorld(): Promise<MessagingWorld> {
  const [db, vhost] = await Promise.all([createTestDatabase({ sql: [OUTBOX_INBOX_SQL] }), createTestVhost()]);
  const pool = new Pool({ connectionString: db.url, max: 10 });
  const connections: BrokerConnection[] = [];
  return {
    db,
    vhost,
    pool,
    connect: async (url = vhost.url) => {
      const connection = createBrokerConnection({ url, logger, reconnect: { initialMs: 50, maxMs: 300 } });
      connections.push(connection);
      await connection.waitForConnect(10_000);
      return connection;
    },
    teardown: async () => {
      await Promise.allSettled(connections.map((connection) => connection.close()));
      await pool.end();
      await Promise.allSettled([db.drop(), vhost.drop()]);
    },
  };
}

export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}
