import type { Database } from '@shop/platform';
import type { DB } from '../generated/database';

/** The product database as the service queries it: Kysely over the pool, typed from schema.prisma. */
export type Db = Database<DB>;
