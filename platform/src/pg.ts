import { Pool, type PoolClient } from 'pg';
import { createLogger, type Logger } from './logger';

/**
 * A service's `pg` pool. An idle connection that the server drops (a restart, a failover, a
 * database dropped under it) emits 'error' on the pool; without a listener that would crash the
 * process, so it becomes a warning and the pool opens a fresh connection on the next query.
 */
export function createPgPool(
  connectionString: string,
  options: { max?: number; idleTimeoutMillis?: number; logger?: Logger } = {},
): Pool {
  const pool = new Pool({ connectionString, max: options.max ?? 10, idleTimeoutMillis: options.idleTimeoutMillis ?? 30_000 });
  const logger = options.logger ?? createLogger('database');
  pool.on('error', (error) => logger.warn('idle database connection lost; the pool reconnects', { err: error.message }));
  return pool;
}

const INT4 = (value: number) => Number.isInteger(value) && value >= -2_147_483_648 && value <= 2_147_483_647;

/**
 * Runs `work` in one transaction on one connection and commits, or rolls back on any failure (a
 * connection that cannot even roll back is discarded, not pooled). With `advisoryLock`, the
 * transaction first takes `pg_advisory_xact_lock(a, b)` — in the same round trip as BEGIN (the keys
 * are checked integers written inline, since a multi-statement query takes no parameters) — so
 * every later statement's snapshot sees what the previous holder committed.
 */
export async function inTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
  options: { advisoryLock?: [number, number] } = {},
): Promise<T> {
  const lock = options.advisoryLock;
  if (lock && !lock.every(INT4)) throw new TypeError(`advisory lock keys must be int4: ${lock.join(', ')}`);
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(lock ? `BEGIN; SELECT pg_advisory_xact_lock(${lock[0]}, ${lock[1]})` : 'BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
    throw error;
  } finally {
    client.release(broken);
  }
}
