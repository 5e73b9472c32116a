import { createLogger, loadConfigOrExit, runMigrateCli } from '@shop/platform';
import { configShape } from './config';
import { migrationsDir } from './db/migrations-dir';

/** `npm run migrate`: creates the database if needed and applies the committed migrations. */
const config = loadConfigOrExit('product-service migrate', configShape);
runMigrateCli({
  service: 'product-service',
  databaseUrl: config.DATABASE_URL,
  migrationsDir: migrationsDir(),
  logger: createLogger('product-service', config.LOG_LEVEL),
});
