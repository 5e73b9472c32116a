import { closeServer, createLogger, databaseCheck, listen, portOf, type Logger } from '@shop/platform';
import { createApp } from './app';
import type { Config } from './config';
import { createPrismaClient } from './db/prisma';
import { createProductRepository } from './db/product-repository';

export interface StartOptions {
  logger?: Logger;
}

export interface RunningService {
  port: number;
  close(): Promise<void>;
}

/** Connects the database and serves HTTP; used by main.ts and in-process by the e2e suite (PORT 0). */
export async function start(config: Config, options: StartOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger('product-service', config.LOG_LEVEL);
  const db = createPrismaClient(config.DATABASE_URL);
  const app = createApp({
    products: createProductRepository(db),
    jwtSecret: config.JWT_SECRET,
    logger,
    health: {
      database: databaseCheck(() => db.$queryRaw`SELECT 1`),
      broker: async () => ({ status: 'up' }),
    },
  });
  const server = await listen(app, config.PORT);
  const port = portOf(server);
  logger.info('product-service listening', { port });
  return {
    port,
    close: async () => {
      await closeServer(server);
      await db.$disconnect();
    },
  };
}
