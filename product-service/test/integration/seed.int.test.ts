import { createTestDatabase, type TestDatabase } from '@shop/platform/testing';
import type { Db } from '../../src/db/database';
import { migrationsDir } from '../../src/db/migrations-dir';
import { seedProducts } from '../../src/db/seed-products';
import { openDb } from '../support/db';

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase({ migrationsDir: migrationsDir() });
  db = openDb(database.url);
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

const snapshot = () =>
  db.selectFrom('products').select(['id', 'name', 'price', 'stock']).orderBy('id').execute();

it('when the seed runs on an empty database, the three seed products exist with ids 1, 2 and 3', async () => {
  const { inserted } = await seedProducts(db);

  expect(inserted).toBe(3);
  expect(await snapshot()).toEqual([
    { id: 1, name: 'Wireless Mouse', price: '25.99', stock: 100 },
    { id: 2, name: 'Mechanical Keyboard', price: '153.50', stock: 50 },
    { id: 3, name: 'USB-C Hub', price: '49.99', stock: 5 },
  ]);
});

it('when the seed runs again after stock was consumed, nothing changes (stock is not reset)', async () => {
  await seedProducts(db);
  await db.updateTable('products').set({ stock: 2 }).where('id', '=', 3).execute();
  const before = await snapshot();

  const { inserted } = await seedProducts(db);

  expect(inserted).toBe(0);
  expect(await snapshot()).toEqual(before);
});

it('when a product is created after seeding, it gets an id past the seed ids', async () => {
  await seedProducts(db);

  const created = await db
    .insertInto('products')
    .values({ name: 'After seed', price: '1.00', stock: 1 })
    .returning('id')
    .executeTakeFirstOrThrow();

  expect(created.id).toBeGreaterThan(3);
});
