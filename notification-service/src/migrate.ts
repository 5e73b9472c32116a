import { createLogger, ensureDatabase, loadConfigOrExit, migrate } from '@shop/platform';
import { configShape } from './config';
import { migrationsDir } from './db/migrations-dir';

/** `npm run migrate`: creates the database if needed and applies the committed migrations. */
async function main() {
  const config = loadConfigOrExit('notification-service migrate', configShape);
  const logger = createLogger('notification-service', config.LOG_LEVEL);
  await ensureDatabase(config.DATABASE_URL);
  const { applied } = await migrate({ connectionString: config.DATABASE_URL, migrationsDir: migrationsDir(), logger });
  logger.info('migrations up to date', { applied });
}

main().catch((error: unknown) => {
  process.stderr.write(`notification-service migrate failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
