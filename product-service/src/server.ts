import { QUEUES } from '@shop/contracts';
import {
  closeServer,
  createConsumer,
  createLogger,
  createOutboxProbe,
  createOutboxRelay,
  createServiceMessaging,
  createTokenVerifier,
  databaseCheck,
  listen,
  noteOtelExport,
  outboxLagCheck,
  outboxRetention,
  portOf,
  processMetrics,
  watchOutbox,
  type Logger,
} from '@shop/platform';
import { createApp } from './app';
import type { Config } from './config';
import { createPool, DEFAULT_POOL_SIZE } from './db/pool';
import { createProductRepository } from './db/product-repository';
import { orderEventHandlers } from './messaging/order-events.handlers';

export interface StartOptions {
  logger?: Logger;
}

export interface RunningService {
  port: number;
  close(): Promise<void>;
}

/**
 * Wires the product service: database, broker connection (topology declared on every connect by
 * the consumer and the relay), the order-events consumer, the in-process outbox relay, and HTTP.
 * Used by main.ts and in-process by the e2e suite (PORT 0). RabbitMQ being away does not stop
 * start-up: after BROKER_STARTUP_WAIT_MS it serves anyway, /health says degraded, and the
 * consumer and relay attach when the broker arrives.
 */
export async function start(config: Config, options: StartOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger('product-service', config.LOG_LEVEL);
  noteOtelExport(logger);
  // One pg pool for HTTP, the consumer and the relay; the running service never creates a Prisma client.
  const pool = createPool(config.DATABASE_URL, DEFAULT_POOL_SIZE, logger);
  const outboxProbe = createOutboxProbe(async (sql) => (await pool.query(sql)).rows);
  const unwatchOutbox = watchOutbox(processMetrics(), 'product-service', outboxProbe);
  const messaging = createServiceMessaging({
    name: 'product-service',
    url: config.AMQP_URL,
    logger,
    startupWaitMs: config.BROKER_STARTUP_WAIT_MS,
    downDetail: 'not connected to RabbitMQ',
    consumers: (connection) => [
      createConsumer({ connection, queue: QUEUES.productOrders, handlers: orderEventHandlers(pool), logger }),
    ],
    relay: (connection) =>
      createOutboxRelay({
        pool,
        connection,
        logger: logger.child({ component: 'outbox-relay' }),
        retention: outboxRetention(config),
      }),
  });

  const app = createApp({
    products: createProductRepository(pool),
    tokens: createTokenVerifier(config),
    logger,
    health: {
      database: databaseCheck(() => pool.query('SELECT 1')),
      broker: messaging.brokerCheck,
      outboxLag: outboxLagCheck(outboxProbe, config.OUTBOX_MAX_LAG),
    },
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
      unwatchOutbox();
      await pool.end();
    },
  };
}
