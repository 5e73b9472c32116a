import path from 'node:path';
import { ensureDatabase, migrate } from '@shop/platform';
import { Client } from 'pg';
import { ROOT } from '../../infra';

const SERVER_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PREFIX = 'shop_bench_persistence_';

export type ServiceSchema = 'order-service' | 'product-service';

export function scratchUrl(name: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A connection to the server's `postgres` database: creates and drops scratch databases, reads pg_stat_activity. */
export async function connectAdmin(): Promise<Client> {
  const admin = new Client({ connectionString: SERVER_URL });
  await admin.connect();
  return admin;
}

/** A fresh database `shop_bench_persistence_<suffix>` with the service's own migrations applied. */
export async function createScratchDatabase(
  admin: Client,
  suffix: string,
  schema: ServiceSchema,
): Promise<{ name: string; url: string }> {
  const name = PREFIX + suffix.replace(/[^a-z0-9_]/g, '_');
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  const url = scratchUrl(name);
  await ensureDatabase(url);
  await migrate({ connectionString: url, migrationsDir: path.join(ROOT, schema, 'prisma', 'migrations') });
  return { name, url };
}

export async function dropScratchDatabase(admin: Client, name: string): Promise<void> {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

/** Whatever a crashed earlier run left behind. */
export async function dropLeftoverScratchDatabases(admin: Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>(
    "SELECT datname FROM pg_database WHERE datname LIKE 'shop\\_bench\\_persistence\\_%'",
  );
  for (const { datname } of rows) await dropScratchDatabase(admin, datname);
}
