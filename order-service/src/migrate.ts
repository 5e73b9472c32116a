import { existsSync } from 'node:fs';
import path from 'node:path';
import { createLogger, ensureDatabase, loadConfigOrExit, migrate } from '@shop/platform';
import { configShape } from './config';

/** prisma/migrations, found by walking up from here: works from src/ (tsx, jest) and dist/src/ alike. */
export function migrationsDir(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'prisma', 'migrations');
    if (existsSync(path.join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`no prisma/migrations above ${from}`);
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit('order-service', configShape);
  const logger = createLogger('order-service-migrate', config.LOG_LEVEL);
  await ensureDatabase(config.DATABASE_URL);
  const { applied } = await migrate({
    connectionString: config.DATABASE_URL,
    migrationsDir: migrationsDir(),
    logger,
  });
  logger.info('migrations up to date', { applied });
}

if (require.main === module) {
  main().catch((error: Error) => {
    process.stderr.write(`order-service migrate failed: ${error.message}\n`);
    process.exit(1);
  });
}
