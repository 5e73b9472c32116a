import { createLogger, loadConfigOrExit, runMigrateCli } from '@shop/platform';
import { configShape } from './config';
import { migrationsDir } from './db/migrations-dir';

/** `npm run migrate`: creates the database if needed and applies the committed migrations. */
const config = loadConfigOrExit('order-service migrate', configShape);
runMigrateCli({
  service: 'order-service',
  databaseUrl: config.DATABASE_URL,
  migrationsDir: migrationsDir(),
  logger: createLogger('order-service', config.LOG_LEVEL),
});
