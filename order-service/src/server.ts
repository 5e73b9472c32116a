import type { Server } from 'node:http';
import { QUEUES } from '@shop/contracts';
import {
  closeServer,
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
import { createIdempotencyRepository } from './db/idempotency-repository';
import { createOrderReader } from './db/order-repository';
import { createOrderWriter } from './db/order-writer';
import { createPool } from './db/pg-pool';
import { createPrisma, PRISMA_COLD_POOL_SIZE } from './db/prisma';
import { createProductClient } from './http-clients/product-client';
import { createInventoryConsumer } from './messaging/inventory.message-controller';

export interface StartOptions {
  logger?: Logger;
}

export interface Started {
  port: number;
  /** Resolves once the inventory consumer is consuming (tests, readiness); never needed to serve HTTP. */
  consuming(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Wires the order service: Prisma, the product client, the broker connection (topology, the
 * inventory consumer, the in-process outbox relay) and HTTP. The broker is never awaited: orders
 * are accepted while RabbitMQ is away, their events wait in the outbox, and the connection,
 * consumer and relay resume by themselves when it returns.
 */
export async function start(config: Config, options: StartOptions = {}): Promise<Started> {
  const logger = options.logger ?? createLogger('order-service', config.LOG_LEVEL);
  noteOtelExport(logger);
  // Hot paths (placing orders, the inventory consumer) on pg; Prisma only for the cold reads and PATCH.
  const pool = createPool(config.DATABASE_URL, config.DATABASE_POOL_SIZE, logger);
  const prisma = createPrisma(config.DATABASE_URL, PRISMA_COLD_POOL_SIZE, logger);
  const outboxProbe = createOutboxProbe(async (sql) => (await pool.query(sql)).rows);
  const unwatchOutbox = watchOutbox(processMetrics(), 'order-service', outboxProbe);
  const catalogue = createProductClient({
    baseUrl: config.PRODUCT_SERVICE_URL,
    timeoutMs: config.PRODUCT_SERVICE_TIMEOUT_MS,
    breaker: {
      errorThresholdPercentage: config.PRODUCT_BREAKER_ERROR_PERCENT,
      resetTimeoutMs: config.PRODUCT_BREAKER_RESET_MS,
    },
  });
  const messaging = createServiceMessaging({
    name: 'order-service',
    url: config.AMQP_URL,
    logger,
    startupWaitMs: config.BROKER_STARTUP_WAIT_MS,
    downDetail: 'not connected; events wait in the outbox',
    declareQueues: [QUEUES.orderInventory],
    consumers: (connection) =>
      config.CONSUMERS_ENABLED
        ? [
            createInventoryConsumer({
              pool,
              connection,
              logger: logger.child({ component: 'inventory-consumer' }),
            }),
          ]
        : [],
    relay: config.RELAY_ENABLED
      ? (connection) =>
          createOutboxRelay({
            pool: config.DATABASE_URL,
            connection,
            logger: logger.child({ component: 'outbox-relay' }),
            retention: outboxRetention(config),
          })
      : undefined,
  });
  const app = createApp({
    prisma,
    orders: createOrderReader(prisma),
    writer: createOrderWriter(pool),
    catalogue,
    idempotency: createIdempotencyRepository(pool, config.ORDER_REQUEST_DEADLINE_MS),
    tokens: createTokenVerifier(config),
    logger,
    checks: {
      database: databaseCheck(() => pool.query('SELECT 1')),
      broker: messaging.brokerCheck,
      outboxLag: outboxLagCheck(outboxProbe, config.OUTBOX_MAX_LAG),
    },
  });

  let server: Server | undefined;
  try {
    await messaging.start();
    server = await listen(app, config.PORT);
  } catch (error) {
    await shutdown();
    throw error;
  }
  const port = portOf(server);
  logger.info('order-service listening', { port });

  async function shutdown(): Promise<void> {
    if (server) await closeServer(server);
    await messaging.stop();
    catalogue.close();
    unwatchOutbox();
    await prisma.$disconnect();
    await pool.end();
  }

  let closing: Promise<void> | undefined;
  return {
    port,
    consuming: (timeoutMs) => messaging.waitUntilConsuming(timeoutMs),
    close: () => (closing ??= shutdown()),
  };
}
