import { createPgPool, type Logger } from '@shop/platform';
import type { Pool, PoolClient } from 'pg';

export type { Pool, PoolClient };

export const DEFAULT_POOL_SIZE = 14;

/**
 * The service's `pg` pool: the hot paths (product reads by id, the stock saga) and the outbox
 * relay run on it with plain parameterised SQL; no Prisma client is created by the running
 * service. Sized for the consumer's prefetch (10 handlers in flight) plus HTTP and the relay
 * (one LISTEN connection and one claiming transaction).
 */
export function createPool(connectionString: string, max = DEFAULT_POOL_SIZE, logger?: Logger): Pool {
  return createPgPool(connectionString, { max, logger });
}
