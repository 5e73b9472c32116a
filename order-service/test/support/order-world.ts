import path from 'node:path';
import type { Express } from 'express';
import type { Pool } from 'pg';
import { sql } from 'kysely';
import {
  baseConfigShape,
  createDatabase,
  createLogger,
  createPgPool,
  createTokenVerifier,
  databaseCheck,
  parseConfig,
  signToken,
  type Database,
} from '@shop/platform';
import { createTestDatabase, type TestDatabase } from '@shop/platform/testing';
import { createApp } from '../../src/app';
import { configShape } from '../../src/config';
import { createIdempotencyRepository } from '../../src/db/idempotency-repository';
import { createOrderReader } from '../../src/db/order-store';
import type { DB } from '../../src/generated/database';
import { createProductClient, type ProductClient } from '../../src/http-clients/product-client';
import { startProductStub, type ProductStub } from './product-stub';

export const MIGRATIONS_DIR = path.join(__dirname, '../../prisma/migrations');
export const JWT_SECRET = parseConfig(baseConfigShape, {}).JWT_SECRET;
const logger = createLogger('order-service-test');
// Some tests provoke 500s on purpose; LOG_LEVEL=debug shows everything when a test needs reading.
logger.silent = !process.env.LOG_LEVEL;

export interface OrderWorld {
  app: Express;
  /** The service's own database (Kysely on its pool), as the app uses it. */
  db: Database<DB>;
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
  const pool = createPgPool(database.url, { max: 2 });
  const db = createDatabase<DB>(createPgPool(database.url, { max: 5 }));
  const catalogue = createProductClient({ baseUrl: stub.url, timeoutMs: options.productTimeoutMs ?? 1_000 });
  const app = createApp({
    db,
    orders: createOrderReader(db),
    idempotency: createIdempotencyRepository(db, options.requestDeadlineMs ?? REQUEST_DEADLINE_MS),
    catalogue,
    tokens: createTokenVerifier({ JWT_SECRET }),
    logger,
    checks: { database: databaseCheck(() => sql`SELECT 1`.execute(db)) },
  });
  return {
    app,
    db,
    pool,
    database,
    stub,
    catalogue,
    teardown: async () => {
      catalogue.close();
      await stub.close();
      await db.destroy();
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
