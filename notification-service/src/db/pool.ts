import { createPgPool, type Logger } from '@shop/platform';
import type { Pool } from 'pg';

export type Db = Pool;

/**
 * The service's database: a plain `pg` pool. The hot path (recording an event) and the list are
 * a few parameterised statements, so the service runs without loading the Prisma client at all;
 * Prisma stays for the schema, migrations and generated types. `max` covers the consumer's
 * prefetch (one short transaction per event in flight) plus HTTP.
 */
export function createPool(connectionString: string, max = 10, logger?: Logger): Db {
  return createPgPool(connectionString, { max, logger });
}
