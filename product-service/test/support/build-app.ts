import { createLogger, createTokenVerifier, signToken } from '@shop/platform';
import { createTestDatabase, type TestDatabase } from '@shop/platform/testing';
import { createApp } from '../../src/app';
import { migrationsDir } from '../../src/db/migrations-dir';
import type { Db } from '../../src/db/database';
import { createProductRepository } from '../../src/db/product-repository';
import { openDb } from './db';

export const JWT_SECRET = 'product-service-test-secret';

export interface TestApp {
  app: ReturnType<typeof createApp>;
  /** The database the app runs on, for arranging and inspecting. */
  db: Db;
  database: TestDatabase;
  close(): Promise<void>;
}

/** The app in-process on a database of its own (migrated), with a healthy stub broker check. */
export async function buildTestApp(): Promise<TestApp> {
  const database = await createTestDatabase({ migrationsDir: migrationsDir() });
  const db = openDb(database.url);
  const app = createApp({
    products: createProductRepository(db),
    tokens: createTokenVerifier({ JWT_SECRET }),
    logger: createLogger('product-service-test'),
    health: { database: async () => ({ status: 'up' }), broker: async () => ({ status: 'up' }) },
  });
  return {
    app,
    db,
    database,
    close: async () => {
      await db.destroy();
      await database.drop();
    },
  };
}

export const adminToken = () => signToken({ userId: 1, roles: ['admin'] }, JWT_SECRET);
export const userToken = () => signToken({ userId: 42, roles: [] }, JWT_SECRET);

let counter = 0;
/** A valid create body; each call gets a unique name. */
export const buildProductBody = (overrides: Record<string, unknown> = {}) => ({
  name: `Test product ${++counter}`,
  description: 'made for a test',
  price: '12.50',
  stock: 10,
  ...overrides,
});
