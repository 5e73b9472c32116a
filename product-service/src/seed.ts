import { createLogger, loadConfigOrExit } from '@shop/platform';
import { configShape } from './config';
import { seedDatabase } from './db/seed-products';

/** `npm run seed`: inserts the seed products that are missing; existing rows stay as they are. */
async function main() {
  const config = loadConfigOrExit('product-service seed', configShape);
  const logger = createLogger('product-service', config.LOG_LEVEL);
  const { inserted } = await seedDatabase(config.DATABASE_URL);
  logger.info('seed products ensured', { inserted });
}

main().catch((error: unknown) => {
  process.stderr.write(`product-service seed failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
