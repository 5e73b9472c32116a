import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { migrate } from '../../src/migrator';
import { createTestDatabase, type TestDatabase } from '../../src/testing';

function migrationsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'shop-migrations-'));
  for (const [name, sql] of Object.entries(files)) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

async function query<T extends object>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('the offline migrator', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(() => db.drop());

  it('applies migrations in name order, once, recording them where Prisma looks', async () => {
    const dir = migrationsDir({
      '20260101000000_first': 'CREATE TABLE a (id int);',
      '20260102000000_second': 'ALTER TABLE a ADD COLUMN name text;',
    });

    const first = await migrate({ connectionString: db.url, migrationsDir: dir });
    const second = await migrate({ connectionString: db.url, migrationsDir: dir });

    expect(first.applied).toEqual(['20260101000000_first', '20260102000000_second']);
    expect(second.applied).toEqual([]);
    const rows = await query<{ migration_name: string; checksum: string }>(
      db.url,
      'SELECT migration_name, checksum FROM "_prisma_migrations" ORDER BY migration_name',
    );
    expect(rows.map((row) => row.migration_name)).toEqual(['20260101000000_first', '20260102000000_second']);
    expect(rows[0].checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a failing migration leaves nothing of itself behind and is not recorded', async () => {
    const dir = migrationsDir({
      '20260101000000_ok': 'CREATE TABLE a (id int);',
      '20260102000000_broken': 'CREATE TABLE b (id int); SELECT no_such_function();',
    });

    await expect(migrate({ connectionString: db.url, migrationsDir: dir })).rejects.toThrow(/20260102000000_broken/);

    const tables = await query<{ table_name: string }>(
      db.url,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(tables.map((table) => table.table_name)).toEqual(['_prisma_migrations', 'a']);
  });

  it('two migrators started at once apply each migration once', async () => {
    const dir = migrationsDir({ '20260101000000_only': 'CREATE TABLE once_only (id int);' });

    const results = await Promise.all([
      migrate({ connectionString: db.url, migrationsDir: dir }),
      migrate({ connectionString: db.url, migrationsDir: dir }),
    ]);

    expect(results.flatMap((result) => result.applied)).toEqual(['20260101000000_only']);
  });
});
