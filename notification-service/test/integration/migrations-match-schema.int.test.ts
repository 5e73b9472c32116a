import { join } from 'node:path';
import { assertMigrationsMatchSchema, createTestDatabase, type TestDatabase } from '@shop/platform/testing';
import { migrationsDir } from '../../src/db/migrations-dir';

describe('the notification service migrations', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ migrationsDir: migrationsDir() });
  });
  afterAll(() => database.drop());

  it('applied to an empty database, they build exactly what schema.prisma declares', async () => {
    await expect(
      assertMigrationsMatchSchema({ schemaPath: join(__dirname, '../../prisma/schema.prisma'), databaseUrl: database.url }),
    ).resolves.toBeUndefined();
  });
});
