import { Pool, type PoolClient } from 'pg';

export type { Pool, PoolClient };

/**
 * The service's `pg` pool: the hot paths (product reads by id, the stock saga) and the outbox
 * relay run on it with plain parameterised SQL; no Prisma client is created by the running
 * service. Sized for the consumer's prefetch (10 handlers in flight) plus HTTP and the relay
 * (one LISTEN connection and one claiming transaction).
 */
export function createPool(connectionString: string, max = 14): Pool {
  return new Pool({ connectionString, max, idleTimeoutMillis: 30_000 });
}

/**
 * Runs `work` in one transaction on one connection: `BEGIN` and the first statement travel in one
 * simple-protocol round trip (`begin` is SQL without parameters), then `work`, then `COMMIT`.
 * On any failure the transaction rolls back; a connection whose rollback fails is discarded.
 */
export async function inTransaction<T>(pool: Pool, begin: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(`BEGIN; ${begin}`);
    const result = await work(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
      client.release();
    } catch (rollbackError) {
      client.release(rollbackError as Error);
    }
    throw error;
  }
}
