import { randomUUID } from 'node:crypto';
import { EXCHANGES, ROUTES, type AnyEvent, type QueueSpec } from '@shop/contracts';
import { declareTopology, parseConfig } from '@shop/platform';
import {
  buildOrderCreated,
  capturingLogger,
  createTestDatabase,
  createTestVhost,
  eventually,
  type TestDatabase,
  type TestVhost,
} from '@shop/platform/testing';
import { connect, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { sql } from 'kysely';
import { configShape } from '../../src/config';
import { migrationsDir } from '../../src/db/migrations-dir';
import type { Db } from '../../src/db/database';
import { start, type RunningService } from '../../src/server';
import { openDb } from './db';

/**
 * The product service running in-process (start(), port 0) on a database and a vhost of its own,
 * with a test-side broker connection that publishes order events the way the order service's relay
 * does and watches what the product service publishes to `inventory`.
 */
export interface SagaWorld {
  db: Db;
  database: TestDatabase;
  vhost: TestVhost;
  service: RunningService;
  /** Every log record the service wrote (level info and up), for `deliveryOutcomes`. */
  logs: Record<string, unknown>[];
  /** Every message published to `inventory`, parsed. */
  inventory: AnyEvent[];
  publish(event: AnyEvent): Promise<void>;
  publishRaw(routingKey: string, body: string): Promise<void>;
  /** Messages that reached product-service.orders.dlq. */
  deadLettered: ConsumeMessage[];
  /** How many connections the service holds to its database now (its own, not the test's). */
  serviceConnections(): Promise<number>;
  teardown(): Promise<void>;
}

/** Names the service's connections in pg_stat_activity, to tell them from the test's own. */
const SERVICE_APPLICATION_NAME = 'product-service-under-test';

const INVENTORY_PROBE: QueueSpec = {
  name: 'test.inventory-probe',
  bindings: [{ exchange: EXCHANGES.inventory, routingKey: '#' }],
};

/** `env` adds to (or replaces) the service's test configuration, e.g. a DATABASE_POOL_SIZE. */
export async function createSagaWorld(env: Record<string, string> = {}): Promise<SagaWorld> {
  const [database, vhost] = await Promise.all([
    createTestDatabase({ migrationsDir: migrationsDir() }),
    createTestVhost(),
  ]);
  const db = openDb(database.url);
  const { logger, lines: logs } = capturingLogger('info');

  const broker: ChannelModel = await connect(vhost.url);
  const channel = await broker.createConfirmChannel();
  await declareTopology(channel, [INVENTORY_PROBE]);
  const inventory: AnyEvent[] = [];
  await channel.consume(
    INVENTORY_PROBE.name,
    (message) => message && inventory.push(JSON.parse(message.content.toString())),
    { noAck: true },
  );

  const serviceUrl = new URL(database.url);
  serviceUrl.searchParams.set('application_name', SERVICE_APPLICATION_NAME);
  const config = parseConfig(configShape, {
    PORT: '0',
    DATABASE_URL: serviceUrl.toString(),
    AMQP_URL: vhost.url,
    BROKER_STARTUP_WAIT_MS: '15000',
    LOG_LEVEL: 'info',
    ...env,
  });
  const service = await start(config, { logger });

  const deadLettered: ConsumeMessage[] = [];
  await channel.consume('product-service.orders.dlq', (message) => message && deadLettered.push(message), {
    noAck: true,
  });

  const publishBytes = async (routingKey: string, body: Buffer, properties: object) => {
    channel.publish(EXCHANGES.orders, routingKey, body, {
      persistent: true,
      contentType: 'application/cloudevents+json',
      ...properties,
    });
    await channel.waitForConfirms();
  };

  return {
    db,
    database,
    vhost,
    service,
    logs,
    inventory,
    deadLettered,
    serviceConnections: async () => {
      const { rows } = await sql<{ n: string }>`
        SELECT count(*) AS n FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = ${SERVICE_APPLICATION_NAME}`.execute(db);
      return Number(rows[0].n);
    },
    publish: (event) =>
      publishBytes(ROUTES[event.type].routingKey, Buffer.from(JSON.stringify(event)), {
        messageId: event.id,
        type: event.type,
        timestamp: Date.now(),
      }),
    publishRaw: (routingKey, body) =>
      publishBytes(routingKey, Buffer.from(body), { messageId: randomUUID() }),
    teardown: async () => {
      await service.close();
      await broker.close().catch(() => undefined);
      await db.destroy();
      await Promise.allSettled([database.drop(), vhost.drop()]);
    },
  };
}

export async function createProductWithStock(db: Db, stock: number): Promise<number> {
  const product = await db
    .insertInto('products')
    .values({ name: `Saga product ${randomUUID().slice(0, 8)}`, price: '10.00', stock })
    .returning('id')
    .executeTakeFirstOrThrow();
  return product.id;
}

export const stockOf = async (db: Db, productId: number) =>
  (await db.selectFrom('products').select('stock').where('id', '=', productId).executeTakeFirstOrThrow())
    .stock;

/** What the saga recorded for the order (status and items), if anything. */
export const reservationOf = (db: Db, orderId: number) =>
  db
    .selectFrom('stock_reservations')
    .select(['status', 'items'])
    .where('order_id', '=', orderId)
    .executeTakeFirst();

/** How many times the inbox recorded this event id. */
export const inboxCount = async (db: Db, eventId: string) =>
  Number(
    (
      await db
        .selectFrom('processed_messages')
        .where('event_id', '=', eventId)
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
export const inventoryFor = (world: SagaWorld, orderId: number) =>
  world.inventory.filter((event) => (event.data as { order_id: number }).order_id === orderId);

/**
 * Sends a marker order (for a product nobody stocks) through the whole saga path — consumer,
 * outbox, relay, `inventory` — and waits for its answer. The relay publishes in outbox order, so by
 * then everything the events settled before it wrote to the outbox is in `world.inventory`: what
 * is not there was never written.
 */
export async function sendMarker(world: SagaWorld): Promise<void> {
  const marker = buildOrderCreated({ items: [{ product_id: 2_000_000_000, quantity: 1 }] });
  await world.publish(marker);
  await eventually(() => inventoryFor(world, marker.data.order_id).length > 0, {
    description: 'the marker answered',
  });
}
