import { PrismaPg } from '@prisma/adapter-pg';
import { createPgPool, type Logger } from '@shop/platform';
import { PrismaClient } from '../generated/prisma/client';

export type Prisma = InstanceType<typeof PrismaClient>;

/** Prisma serves only the cold paths (order reads and lists, PATCH status): a small pool is enough. */
export const PRISMA_COLD_POOL_SIZE = 3;

/**
 * The Prisma client over the pg driver adapter (no native engine needed, see notes/prisma-offline.md),
 * on a pool from platform's `createPgPool` rather than one the adapter would build: the same idle
 * options, and every client listens for 'error' for its whole life, so a connection that dies while
 * the adapter holds it for a transaction fails that transaction (503 database_unavailable), never
 * the process. `$disconnect()` ends the pool.
 */
export function createPrisma(connectionString: string, max = 10, logger?: Logger): Prisma {
  const pool = createPgPool(connectionString, { max, logger });
  return new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
}
