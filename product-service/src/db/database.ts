import type { Database } from '@shop/platform';
import type { DB } from '../generated/database';

/** The product database as the service queries it: Kysely over the pool, typed from schema.prisma. */
export type Db = Database<DB>;

/**
 * Connections in the service's one pool (HTTP, the consumer and the relay share it): the
 * consumer's prefetch (10 handlers in flight) plus HTTP and the relay (one LISTEN connection and
 * one claiming transaction).
 */
export const DEFAULT_POOL_SIZE = 14;
