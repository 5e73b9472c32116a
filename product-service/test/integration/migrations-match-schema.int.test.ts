import { join } from 'node:path';
import { Client } from 'pg';
import { migrationsDir } from '../../src/db/migrations-dir';
import {
  assertMigrationsMatchSchema,
  createTestDatabase,
  diffMigrationsAgainstSchema,
  type TestDatabase,
} from '@shop/platform/testing';

const schemaPath = join(__dirname, '../../prisma/schema.prisma');
const databases: TestDatabase[] = [];
afterAll(() => Promise.all(databases.map((database) => database.drop())));

async function migratedDatabase() {
  const database = await createTestDatabase({ migrationsDir: migrationsDir() });
  databases.push(database);
  return database;
}

async function run(url: string, sql: string) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

it('when the migrations are applied to an empty database, it has exactly the tables, columns, types and indexes schema.prisma declares', async () => {
  const database = await migratedDatabase();

  await expect(
    assertMigrationsMatchSchema({ schemaPath, databaseUrl: database.url }),
  ).resolves.toBeUndefined();
});

it('when the database drifts from schema.prisma, the check names every difference', async () => {
  const database = await migratedDatabase();
  await run(
    database.url,
    `ALTER TABLE products ALTER COLUMN name TYPE text;
     ALTER TABLE products ALTER COLUMN description SET NOT NULL;
     ALTER TABLE products ADD COLUMN sku text;
     ALTER TABLE stock_reservations ALTER COLUMN items DROP DEFAULT;
     DROP INDEX scheduled_events_deliver_at_idx;
     CREATE INDEX products_name_idx ON products (name);
     CREATE TABLE stray (id int);`,
  );

  const problems = await diffMigrationsAgainstSchema({ schemaPath, databaseUrl: database.url });

  expect(problems).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/Product.*name.*type is text in the database, character varying\(200\)/),
      expect.stringMatching(/Product.*description.*NOT NULL in the database, optional/),
      expect.stringMatching(/column sku exists in the database/),
      expect.stringMatching(/StockReservation.*items.*default is none/),
      expect.stringMatching(/ScheduledEvent.*index \(deliver_at\).*missing/),
      expect.stringMatching(/index products_name_idx .* exists in the database/),
      expect.stringMatching(/table stray exists in the database/),
    ]),
  );
  expect(problems).toHaveLength(7);
});
