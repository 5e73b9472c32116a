import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { EXCHANGES, ROUTES, type AnyEvent, type OrderStatus, type QueueSpec } from '@shop/contracts';
import { buildEvent, declareTopology, parseConfig } from '@shop/platform';
import { createTestDatabase, createTestVhost, type TestDatabase, type TestVhost } from '@shop/platform/testing';
import { connect, type ChannelModel, type ConsumeMessage } from 'amqplib';
import winston from 'winston';
import { configShape } from '../../src/config';
import { migrationsDir } from '../../src/db/migrations-dir';
import { createPrismaClient, type Db } from '../../src/db/prisma';
import { start, type RunningService } from '../../src/server';

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
  /** Every log record the service wrote (level info and up), for "the consumer has handled X" waits. */
  logs: Record<string, unknown>[];
  /** Every message published to `inventory`, parsed. */
  inventory: AnyEvent[];
  publish(event: AnyEvent): Promise<void>;
  publishRaw(routingKey: string, body: string): Promise<void>;
  /** Messages that reached product-service.orders.dlq. */
  deadLettered: ConsumeMessage[];
  teardown(): Promise<void>;
}

const INVENTORY_PROBE: QueueSpec = { name: 'test.inventory-probe', bindings: [{ exchange: EXCHANGES.inventory, routingKey: '#' }] };

export async function createSagaWorld(): Promise<SagaWorld> {
  const [database, vhost] = await Promise.all([createTestDatabase({ migrationsDir: migrationsDir() }), createTestVhost()]);
  const db = createPrismaClient(database.url);
  const logs: Record<string, unknown>[] = [];
  const logger = winston.createLogger({
    level: 'info',
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream: new Writable({ objectMode: true, write: (info, _e, done) => (logs.push(info), done()) }) })],
  });

  const broker: ChannelModel = await connect(vhost.url);
  const channel = await broker.createConfirmChannel();
  await declareTopology(channel, [INVENTORY_PROBE]);
  const inventory: AnyEvent[] = [];
  await channel.consume(INVENTORY_PROBE.name, (message) => message && inventory.push(JSON.parse(message.content.toString())), { noAck: true });

  const config = parseConfig(configShape, {
    PORT: '0',
    DATABASE_URL: database.url,
    AMQP_URL: vhost.url,
    BROKER_STARTUP_WAIT_MS: '15000',
    LOG_LEVEL: 'info',
  });
  const service = await start(config, { logger });

  const deadLettered: ConsumeMessage[] = [];
  await channel.consume('product-service.orders.dlq', (message) => message && deadLettered.push(message), { noAck: true });

  const publishBytes = async (routingKey: string, body: Buffer, properties: object) => {
    channel.publish(EXCHANGES.orders, routingKey, body, { persistent: true, contentType: 'application/cloudevents+json', ...properties });
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
    publish: (event) =>
      publishBytes(ROUTES[event.type].routingKey, Buffer.from(JSON.stringify(event)), { messageId: event.id, type: event.type, timestamp: Date.now() }),
    publishRaw: (routingKey, body) => publishBytes(routingKey, Buffer.from(body), { messageId: randomUUID() }),
    teardown: async () => {
      await service.close();
      await broker.close().catch(() => undefined);
      await db.$disconnect();
      await Promise.allSettled([database.drop(), vhost.drop()]);
    },
  };
}

export async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits until the consumer has settled the event with this id (handled, skipped as duplicate, or dead-lettered). */
export const settled = (world: SagaWorld, eventId: string) =>
  waitFor(() => world.logs.some((log) => log.event_id === eventId && /event (handled|skipped as duplicate|dead-lettered)/.test(String(log.message))), `event ${eventId} settled`);

/** How many times the consumer has settled this event id. */
export const settledCount = (world: SagaWorld, eventId: string) =>
  world.logs.filter((log) => log.event_id === eventId && /event (handled|skipped as duplicate)/.test(String(log.message))).length;

let nextOrderId = 1000;
export const newOrderId = () => nextOrderId++;

export function buildOrderCreated(orderId: number, items: { product_id: number; quantity: number }[]): AnyEvent {
  return buildEvent({
    type: 'OrderCreated',
    source: '/order-service',
    subject: orderId,
    sequence: 1,
    correlationId: `corr-${orderId}`,
    data: {
      order_id: orderId,
      user_id: 42,
      status: 'pending',
      total_amount: '10.00',
      items: items.map((item) => ({ ...item, product_name: `Product ${item.product_id}`, product_price: '10.00', subtotal: '10.00' })),
      created_at: new Date().toISOString(),
    },
  }) as AnyEvent;
}

export function buildOrderStatusUpdated(orderId: number, to: OrderStatus, from: OrderStatus = 'pending'): AnyEvent {
  return buildEvent({
    type: 'OrderStatusUpdated',
    source: '/order-service',
    subject: orderId,
    sequence: 2,
    correlationId: `corr-${orderId}`,
    data: { order_id: orderId, user_id: 42, from_status: from, to_status: to, reason: to === 'cancelled' ? 'customer asked' : null, updated_at: new Date().toISOString() },
  }) as AnyEvent;
}

export async function createProductWithStock(db: Db, stock: number): Promise<number> {
  const product = await db.product.create({ data: { name: `Saga product ${randomUUID().slice(0, 8)}`, price: '10.00', stock } });
  return product.id;
}

export const stockOf = async (db: Db, productId: number) => (await db.product.findUniqueOrThrow({ where: { id: productId } })).stock;
export const inventoryFor = (world: SagaWorld, orderId: number) =>
  world.inventory.filter((event) => (event.data as { order_id: number }).order_id === orderId);
