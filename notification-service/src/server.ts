import { QUEUES } from '@shop/contracts';
import {
  closeServer,
  createConsumer,
  createDatabase,
  createLogger,
  createPgPool,
  createServiceMessaging,
  createTokenVerifier,
  databaseCheck,
  keepPartitions,
  partitionedTablesOf,
  listen,
  noteOtelExport,
  portOf,
  processMetrics,
  type BackoffOptions,
  type Logger,
} from '@shop/platform';
import { createApp } from './app';
import { CONSUMER_TRANSACTIONS, type Config } from './config';
import { createNotificationRepository } from './db/notification-repository';
import type { DB } from './generated/database';
import { notificationBatch, notificationHandlers } from './messaging/notification-handlers';

export interface StartOptions {
  logger?: Logger;
  /** How long start() waits for the consumer before going on without it (default: BROKER_STARTUP_WAIT_MS). */
  brokerWaitMs?: number;
  /** Handler retry backoff (tests shorten it). */
  retryBackoff?: BackoffOptions;
}

export interface RunningService {
  port: number;
  close(): Promise<void>;
}

/**
 * Connects the database and the broker, consumes `notification-service.events` (declaring the
 * exchanges, the queue and its DLQ on every connect) and serves HTTP. A broker that is away does
 * not stop the service: the REST API serves, /health says `degraded`, and consuming starts once
 * the connection comes up.
 */
export async function start(config: Config, options: StartOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger('notification-service', config.LOG_LEVEL);
  noteOtelExport(logger);
  // One short transaction per event in flight, and HTTP's (its budget: POOL_BUDGET in config.ts).
  const pool = createPgPool(config.DATABASE_URL, { max: config.DATABASE_POOL_SIZE, logger });
  const db = createDatabase<DB>(pool);
  const notifications = createNotificationRepository(db);
  const messaging = createServiceMessaging({
    name: 'notification-service',
    url: config.AMQP_URL,
    logger,
    startupWaitMs: options.brokerWaitMs ?? config.BROKER_STARTUP_WAIT_MS,
    consumers: (connection) => [
      createConsumer({
        connection,
        queue: QUEUES.notificationEvents,
        handlers: notificationHandlers(notifications),
        logger,
        prefetch: config.CONSUMER_PREFETCH,
        concurrency: CONSUMER_TRANSACTIONS,
        ...(config.CONSUMER_BATCH_SIZE > 1 && {
          batch: notificationBatch(notifications, config.CONSUMER_BATCH_SIZE),
        }),
        maxAttempts: config.CONSUMER_MAX_ATTEMPTS,
        backoff: options.retryBackoff,
      }),
    ],
  });
  const stopKeepingPartitions = await keepPartitions({
    service: 'notification-service',
    pool,
    logger,
    metrics: processMetrics(),
    tables: partitionedTablesOf(config),
  });
  await messaging.start();

  const app = createApp({
    notifications,
    tokens: createTokenVerifier(config),
    logger,
    health: {
      database: databaseCheck(() => db.selectNoFrom((eb) => eb.lit(1).as('one')).execute()),
      broker: messaging.brokerCheck,
    },
  });
  const server = await listen(app, config.PORT);
  const port = portOf(server);
  logger.info('notification-service listening', { port, queue: QUEUES.notificationEvents.name });
  return {
    port,
    close: async () => {
      await closeServer(server);
      await messaging.stop();
      await stopKeepingPartitions();
      await db.destroy();
    },
  };
}
