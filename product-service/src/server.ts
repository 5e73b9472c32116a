import { QUEUES } from '@shop/contracts';
import {
  closeServer,
  createConsumer,
  createDatabase,
  createLogger,
  createOutboxProbe,
  createOutboxRelay,
  createPgPool,
  createServiceMessaging,
  createTokenVerifier,
  databaseCheck,
  keepPartitions,
  partitionedTablesOf,
  listen,
  noteOtelExport,
  outboxLagCheck,
  portOf,
  processMetrics,
  watchOutbox,
  type Logger,
} from '@shop/platform';
import { sql } from 'kysely';
import { createApp } from './app';
import { CONSUMER_TRANSACTIONS, type Config } from './config';
import { createProductRepository } from './db/product-repository';
import type { DB } from './generated/database';
import { orderEventBatch, orderEventHandlers } from './messaging/order-events.handlers';

export interface StartOptions {
  logger?: Logger;
}

export interface RunningService {
  port: number;
  close(): Promise<void>;
}

/**
 * Wires the product service, top to bottom: the pg pool, the database (Kysely on the pool), the
 * product repository, messaging (the order-events consumer and the in-process outbox relay; topology
 * declared on every connect by both), and HTTP.
 * Used by main.ts and in-process by the e2e suite (PORT 0). RabbitMQ being away does not stop
 * start-up: after BROKER_STARTUP_WAIT_MS it serves anyway, /health says degraded, and the
 * consumer and relay attach when the broker arrives.
 */
export async function start(config: Config, options: StartOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger('product-service', config.LOG_LEVEL);
  noteOtelExport(logger);

  // One pg pool for HTTP, the consumer and the relay (its budget: POOL_BUDGET in config.ts); the
  // service's own queries go through Kysely on it.
  const pool = createPgPool(config.DATABASE_URL, { max: config.DATABASE_POOL_SIZE, logger });
  const db = createDatabase<DB>(pool);

  const products = createProductRepository(db);

  const outboxProbe = createOutboxProbe(async (query) => (await sql.raw(query).execute(db)).rows);
  const unwatchOutbox = watchOutbox(processMetrics(), 'product-service', outboxProbe);
  const messaging = createServiceMessaging({
    name: 'product-service',
    url: config.AMQP_URL,
    logger,
    startupWaitMs: config.BROKER_STARTUP_WAIT_MS,
    downDetail: 'not connected to RabbitMQ',
    consumers: (connection) => [
      createConsumer({
        connection,
        queue: QUEUES.productOrders,
        handlers: orderEventHandlers(db),
        prefetch: config.CONSUMER_PREFETCH,
        concurrency: CONSUMER_TRANSACTIONS,
        ...(config.CONSUMER_BATCH_SIZE > 1 && { batch: orderEventBatch(db, config.CONSUMER_BATCH_SIZE) }),
        logger,
      }),
    ],
    relay: (connection) =>
      createOutboxRelay({
        pool,
        connection,
        logger: logger.child({ component: 'outbox-relay' }),
      }),
  });

  const app = createApp({
    products,
    tokens: createTokenVerifier(config),
    logger,
    health: {
      database: databaseCheck(() => sql`SELECT 1`.execute(db)),
      broker: messaging.brokerCheck,
      outboxLag: outboxLagCheck(outboxProbe, config.OUTBOX_MAX_LAG),
    },
  });

  const stopKeepingPartitions = await keepPartitions({
    service: 'product-service',
    pool,
    logger,
    metrics: processMetrics(),
    tables: partitionedTablesOf(config),
  });
  await messaging.start();

  const server = await listen(app, config.PORT);
  const port = portOf(server);
  logger.info('product-service listening', { port });
  return {
    port,
    close: async () => {
      await closeServer(server);
      await messaging.stop();
      await stopKeepingPartitions();
      unwatchOutbox();
      // Ends the pool too.
      await db.destroy();
    },
  };
}
