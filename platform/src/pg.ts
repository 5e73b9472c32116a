import { Pool, type PoolClient } from 'pg';
import { createLogger, type Logger } from './logger';

/**
 * How long a pooled connection may sit idle before the pool closes it. Long on purpose: a pool
 * sized for a burst that closes its spare connections once the burst is over (pg's default is
 * 10 s, ours was 30 s) stalled every service for 0.2–0.5 s about 30 s after each burst in the
 * bench, while the connections were closed under steady load — the whole commit → stock p99 tail
 * (84–539 ms in seven runs; 34–60 ms in three without the churn; docs/decisions.md 16). Pools
 * are small and bounded (`max`), so keeping them warm costs a few idle backends.
 * `allowExitOnIdle` keeps a script or test that forgets `pool.end()` from waiting out the timeout.
 */
export const POOL_IDLE_OPTIONS = { idleTimeoutMillis: 10 * 60_000, allowExitOnIdle: true } as const;

/**
 * A service's `pg` pool. An idle connection that the server drops (a restart, a failover, a
 * database dropped under it) emits 'error' on the pool; without a listener that would crash the
 * process, so it becomes a warning and the pool opens a fresh connection on the next query.
 */
export function createPgPool(
  connectionString: string,
  options: { max?: number; logger?: Logger } = {},
): Pool {
  const pool = new Pool({ connectionString, max: options.max ?? 10, ...POOL_IDLE_OPTIONS });
  const logger = options.logger ?? createLogger('database');
  pool.on('error', (error) =>
    logger.warn('idle database connection lost; the pool reconnects', { err: error.message }),
  );
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
