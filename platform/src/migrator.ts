import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import type { Logger } from './logger';

/**
 * Applies Prisma Migrate's committed SQL (`prisma/migrations/<timestamp>_<name>/migration.sql`)
 * without Prisma's native schema engine, which cannot be downloaded on offline machines.
 *
 * Guarantees: migrations run in name order, each in its own transaction, under a Postgres
 * advisory lock (two services starting at once do not race), and are recorded in Prisma's own
 * `_prisma_migrations` table with the same checksum (sha256 of the file), so
 * `prisma migrate deploy` and this migrator agree about what has been applied.
 */
const LOCK_KEY = 72_707_369; // Prisma's advisory lock key, so this and `prisma migrate` exclude each other.

const CREATE_HISTORY = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(migrationsDir: string): Migration[] {
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(migrationsDir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(migrationsDir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

export async function migrate(options: {
  connectionString: string;
  migrationsDir: string;
  logger?: Logger;
}): Promise<{ applied: string[] }> {
  const migrations = readMigrations(options.migrationsDir);
  const client = new Client({ connectionString: options.connectionString });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(CREATE_HISTORY);
    const { rows } = await client.query<{ migration_name: string; checksum: string }>(
      'SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    const done = new Map(rows.map((row) => [row.migration_name, row.checksum]));
    const applied: string[] = [];
    for (const migration of migrations) {
      const recorded = done.get(migration.name);
      if (recorded !== undefined) {
        if (recorded !== migration.checksum) {
          options.logger?.warn('an applied migration was edited afterwards; leaving it as applied', {
            migration: migration.name,
          });
        }
        continue;
      }
      await applyOne(client, migration);
      applied.push(migration.name);
      options.logger?.info('migration applied', { migration: migration.name });
    }
    return { applied };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
}

async function applyOne(client: Client, migration: Migration): Promise<void> {
  const id = randomUUID();
  await client.query('BEGIN');
  try {
    await client.query(
      'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())',
      [id, migration.checksum, migration.name],
    );
    await client.query(migration.sql);
    await client.query(
      'UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1',
      [id],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
  }
}

/** Creates the database named in the URL if it does not exist (connects to `postgres` to do so). */
export async function ensureDatabase(connectionString: string): Promise<void> {
  const url = new URL(connectionString);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } catch (error) {
    if ((error as { code?: string }).code !== '42P04') throw error; // created concurrently
  } finally {
    await client.end();
  }
}

/**
 * A package's prisma/migrations, found by walking up from `from` to the nearest package root that
 * has one, so it resolves the same from src/ (ts, tests) and from dist/src/ (compiled).
 */
export function findMigrationsDir(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'prisma', 'migrations');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`no prisma/migrations above ${from}`);
  }
}

/** A service's `npm run migrate`: create its database if needed, apply its migrations, exit 1 on failure. */
export function runMigrateCli(options: { service: string; databaseUrl: string; migrationsDir: string; logger: Logger }): void {
  (async () => {
    await ensureDatabase(options.databaseUrl);
    const { applied } = await migrate({
      connectionString: options.databaseUrl,
      migrationsDir: options.migrationsDir,
      logger: options.logger,
    });
    options.logger.info('migrations up to date', { applied });
  })().catch((error: unknown) => {
    process.stderr.write(`${options.service} migrate failed: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
