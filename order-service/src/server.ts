import type { Server } from 'node:http';
import { QUEUES } from '@shop/contracts';
import { sql } from 'kysely';
import {
  closeServer,
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
import { createApp } from './app';
import type { Config } from './config';
import { createIdempotencyRepository } from './db/idempotency-repository';
import { createOrderReader } from './db/order-store';
import type { DB } from './generated/database';
import { createProductClient } from './http-clients/product-client';
import { createInventoryConsumer } from './messaging/inventory.message-controller';
import { createTimerConsumer } from './messaging/timers.message-controller';

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
 * Wires the order service, top to bottom: the database (one pg pool under Kysely), the
 * repositories, the product client, the broker connection (topology, the inventory consumer, the
 * in-process outbox relay) and HTTP. The broker is never awaited: orders are accepted while
 * RabbitMQ is away, their events wait in the outbox, and the connection, consumer and relay resume
 * by themselves when it returns.
 */
export async function start(config: Config, options: StartOptions = {}): Promise<Started> {
  const logger = options.logger ?? createLogger('order-service', config.LOG_LEVEL);
  noteOtelExport(logger);

  const pool = createPgPool(config.DATABASE_URL, { max: config.DATABASE_POOL_SIZE, logger });
  const db = createDatabase<DB>(pool);
  // The outbox metrics are platform's own SQL on the pool (platform infrastructure, as the relay).
  const outboxProbe = createOutboxProbe(async (text) => (await pool.query(text)).rows);
  const unwatchOutbox = watchOutbox(processMetrics(), 'order-service', outboxProbe);

  const orders = createOrderReader(db);
  const idempotency = createIdempotencyRepository(db, config.ORDER_REQUEST_DEADLINE_MS);

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
    declareQueues: [QUEUES.orderInventory, QUEUES.orderTimers],
    consumers: (connection) =>
      config.CONSUMERS_ENABLED
        ? [
            createInventoryConsumer({
              db,
              connection,
              logger: logger.child({ component: 'inventory-consumer' }),
            }),
            createTimerConsumer({ db, connection, logger: logger.child({ component: 'timer-consumer' }) }),
          ]
        : [],
    relay: config.RELAY_ENABLED
      ? (connection) =>
          createOutboxRelay({
            pool: config.DATABASE_URL,
            connection,
            logger: logger.child({ component: 'outbox-relay' }),
          })
      : undefined,
  });

  const app = createApp({
    db,
    orders,
    idempotency,
    catalogue,
    pendingTtlSeconds: config.ORDER_PENDING_TTL,
    tokens: createTokenVerifier(config),
    logger,
    checks: {
      database: databaseCheck(() => sql`SELECT 1`.execute(db)),
      broker: messaging.brokerCheck,
      outboxLag: outboxLagCheck(outboxProbe, config.OUTBOX_MAX_LAG),
    },
  });

  let server: Server | undefined;
  let stopKeepingPartitions: (() => Promise<void>) | undefined;
  try {
    stopKeepingPartitions = await keepPartitions({
      service: 'order-service',
      pool,
      logger,
      metrics: processMetrics(),
      tables: partitionedTablesOf(config),
    });
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
    await stopKeepingPartitions?.();
    catalogue.close();
    unwatchOutbox();
    await db.destroy(); // ends the pool
  }

  let closing: Promise<void> | undefined;
  return {
    port,
    consuming: (timeoutMs) => messaging.waitUntilConsuming(timeoutMs),
    close: () => (closing ??= shutdown()),
  };
}
