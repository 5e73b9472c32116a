import { PrismaPg } from '@prisma/adapter-pg';
import { POOL_IDLE_OPTIONS } from '@shop/platform';
import { PrismaClient } from '../generated/prisma/client';

export type Prisma = InstanceType<typeof PrismaClient>;

/** Prisma serves only the cold paths (order reads and lists, PATCH status): a small pool is enough. */
export const PRISMA_COLD_POOL_SIZE = 3;

/** The Prisma client over the pg driver adapter (no native engine needed, see notes/prisma-offline.md). */
export function createPrisma(connectionString: string, max = 10): Prisma {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString, max, ...POOL_IDLE_OPTIONS }) });
}
