import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { migrate } from '../migrator';
import { useContainers } from './docker';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

const LOCAL_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

async function adminUrl(): Promise<{ url: string; stop: () => Promise<unknown> }> {
  if (useContainers()) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:16-alpine').start();
    const url = new URL(container.getConnectionUri());
    url.pathname = '/postgres';
    return { url: url.toString(), stop: () => container.stop() };
  }
  const base = new URL(process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? LOCAL_ADMIN_URL);
  base.pathname = '/postgres';
  return { url: base.toString(), stop: async () => undefined };
}

/**
 * A database of its own for one test file: created empty, migrated, and dropped (with any
 * connections still open) by `drop()`, so files run in parallel and leave nothing behind.
 */
export async function createTestDatabase(
  options: { migrationsDir?: string; sql?: string[] } = {},
): Promise<TestDatabase> {
  const admin = await adminUrl();
  const name = `shop_test_${randomBytes(6).toString('hex')}`;
  await withClient(admin.url, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(admin.url);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  if (options.migrationsDir)
    await migrate({ connectionString: databaseUrl, migrationsDir: options.migrationsDir });
  for (const sql of options.sql ?? []) await withClient(databaseUrl, (client) => client.query(sql));
  return {
    url: databaseUrl,
    drop: async () => {
      await withClient(admin.url, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      await admin.stop();
    },
  };
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
