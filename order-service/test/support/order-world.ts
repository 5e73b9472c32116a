import path from 'node:path';
import type { Express } from 'express';
import type { Pool } from 'pg';
import { baseConfigShape, createLogger, createPgPool, createTokenVerifier, databaseCheck, parseConfig, signToken } from '@shop/platform';
import { createTestDatabase, type TestDatabase } from '@shop/platform/testing';
import { createApp } from '../../src/app';
import { configShape } from '../../src/config';
import { createIdempotencyRepository } from '../../src/db/idempotency-repository';
import { createOrderReader } from '../../src/db/order-repository';
import { createOrderWriter } from '../../src/db/order-writer';
import { createPool } from '../../src/db/pg-pool';
import { createPrisma, type Prisma } from '../../src/db/prisma';
import { createProductClient, type ProductClient } from '../../src/http-clients/product-client';
import { startProductStub, type ProductStub } from './product-stub';

export const MIGRATIONS_DIR = path.join(__dirname, '../../prisma/migrations');
export const JWT_SECRET = parseConfig(baseConfigShape, {}).JWT_SECRET;
const logger = createLogger('order-service-test');
// Some tests provoke 500s on purpose; LOG_LEVEL=debug shows everything when a test needs reading.
logger.silent = !process.env.LOG_LEVEL;

export interface OrderWorld {
  app: Express;
  prisma: Prisma;
  /** A plain pg pool for assertions that look at rows directly. */
  pool: Pool;
  database: TestDatabase;
  stub: ProductStub;
  catalogue: ProductClient;
  teardown(): Promise<void>;
}

/** The service's own default for ORDER_REQUEST_DEADLINE_MS, so tests see what production does. */
export const REQUEST_DEADLINE_MS = parseConfig(configShape, {}).ORDER_REQUEST_DEADLINE_MS;

export interface OrderWorldOptions {
  /** ORDER_REQUEST_DEADLINE_MS (default: the service's default). */
  requestDeadlineMs?: number;
  /** PRODUCT_SERVICE_TIMEOUT_MS (default 1 s). */
  productTimeoutMs?: number;
}

/**
 * One test file's world: its own migrated database, a stub product service over real HTTP, and
 * the app in-process (supertest), wired as server.ts wires it minus the broker.
 */
export async function createOrderWorld(options: OrderWorldOptions = {}): Promise<OrderWorld> {
  const database = await createTestDatabase({ migrationsDir: MIGRATIONS_DIR });
  const stub = await startProductStub();
  const prisma = createPrisma(database.url, 5);
  const pool = createPgPool(database.url, { max: 2 });
  const servicePool = createPool(database.url, 5);
  const catalogue = createProductClient({ baseUrl: stub.url, timeoutMs: options.productTimeoutMs ?? 1_000 });
  const app = createApp({
    prisma,
    orders: createOrderReader(prisma),
    writer: createOrderWriter(servicePool),
    catalogue,
    idempotency: createIdempotencyRepository(servicePool, options.requestDeadlineMs ?? REQUEST_DEADLINE_MS),
    tokens: createTokenVerifier({ JWT_SECRET }),
    logger,
    checks: { database: databaseCheck(() => prisma.$queryRaw`SELECT 1`) },
  });
  return {
    app,
    prisma,
    pool,
    database,
    stub,
    catalogue,
    teardown: async () => {
      catalogue.close();
      await stub.close();
      await prisma.$disconnect();
      await servicePool.end();
      await pool.end();
      await database.drop();
    },
  };
}

let nextUserId = 1_000;
/** A fresh user per test, so no test sees another's orders. */
export const newUserId = () => nextUserId++;

export const bearer = async (userId: number, roles: string[] = []) =>
  `Bearer ${await signToken({ userId, roles }, JWT_SECRET)}`;

export const adminBearer = () => bearer(1, ['admin']);

export const buildOrderBody = (overrides: { items?: { product_id: number; quantity: number }[] } = {}) => ({
  items: [
    { product_id: 1, quantity: 2 },
    { product_id: 2, quantity: 1 },
  ],
  ...overrides,
});

export async function countRows(
  pool: Pool,
  table: 'orders' | 'order_items' | 'outbox_events' | 'idempotency_keys',
): Promise<number> {
  const { rows } = await pool.query<{ count: string }>(`SELECT count(*) FROM ${table}`);
  return Number(rows[0]!.count);
}
