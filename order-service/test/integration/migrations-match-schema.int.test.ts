import path from 'node:path';
import { Client } from 'pg';
import { assertMigrationsMatchSchema, createTestDatabase, type TestDatabase } from '@shop/platform/testing';
import { migrationsDir } from '../../src/db/migrations-dir';

const schemaPath = path.join(__dirname, '../../prisma/schema.prisma');

describe('the order service migrations', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ migrationsDir: migrationsDir() });
  });
  afterAll(() => database.drop());

  test('migrationsDir() finds prisma/migrations from src/ as it will from dist/src/', () => {
    const fromDist = path.join(__dirname, '../../dist/src/db');
    expect(migrationsDir()).toBe(path.join(__dirname, '../../prisma/migrations'));
    expect(migrationsDir(fromDist)).toBe(path.join(__dirname, '../../prisma/migrations'));
  });

  test('applied to an empty database, they build exactly what schema.prisma declares', async () => {
    await expect(
      assertMigrationsMatchSchema({ schemaPath, databaseUrl: database.url }),
    ).resolves.toBeUndefined();
  });

  test.each([
    ['a negative total', `INSERT INTO orders (user_id, total_amount) VALUES (1, -1)`],
    ['an unknown status', `INSERT INTO orders (user_id, total_amount, status) VALUES (1, 1, 'lost')`],
    [
      'a zero quantity',
      `INSERT INTO order_items (order_id, product_id, product_name, product_price, quantity, subtotal) SELECT id, 1, 'x', 1, 0, 1 FROM o`,
    ],
    [
      'a zero price',
      `INSERT INTO order_items (order_id, product_id, product_name, product_price, quantity, subtotal) SELECT id, 1, 'x', 0, 1, 1 FROM o`,
    ],
    [
      'a zero subtotal',
      `INSERT INTO order_items (order_id, product_id, product_name, product_price, quantity, subtotal) SELECT id, 1, 'x', 1, 1, 0 FROM o`,
    ],
    [
      'an unknown idempotency status',
      `INSERT INTO idempotency_keys (user_id, key, request_hash, status) VALUES (1, 'k', 'h', 'maybe')`,
    ],
  ])('the database itself refuses %s', async (_what, sql) => {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `CREATE TEMP TABLE o ON COMMIT DROP AS WITH x AS (INSERT INTO orders (user_id, total_amount) VALUES (1, 1) RETURNING id) SELECT id FROM x`,
      );
      await expect(client.query(sql)).rejects.toThrow(/violates check constraint/);
    } finally {
      await client.query('ROLLBACK');
      await client.end();
    }
  });
});
