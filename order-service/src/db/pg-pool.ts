import { createPgPool, type Logger } from '@shop/platform';
import type { Pool } from 'pg';

export type { Pool } from 'pg';

/**
 * The `pg` pool of the hot paths (placing an order, the inventory consumer, Idempotency-Key
 * claims): parameterised SQL, as few round trips as possible, no query compiler in between.
 */
export function createPool(connectionString: string, max = 10, logger?: Logger): Pool {
  return createPgPool(connectionString, { max, logger });
}
