import type { Pool } from 'pg';
import { connect, type ConsumeMessage } from 'amqplib';
import { createPgPool, declareTopology, parseConfig } from '@shop/platform';
import {
  capturingLogger,
  createTestDatabase,
  createTestVhost,
  type TestDatabase,
  type TestVhost,
} from '@shop/platform/testing';
import { ROUTES, type AnyEvent, type QueueSpec } from '@shop/contracts';
import { configShape, type Config } from '../../src/config';
import { start, type Started } from '../../src/server';
import { MIGRATIONS_DIR } from './order-world';
import { startProductStub, type ProductStub } from './product-stub';

/**
 * The whole order service as main.ts runs it (start() on port 0), against its own database, its
 * own RabbitMQ vhost and a stub product service over real HTTP.
 */
export interface ServiceWorld {
  service: Started;
  baseUrl: string;
  database: TestDatabase;
  vhost: TestVhost;
  stub: ProductStub;
  pool: Pool;
  config: Config;
  /** Every line the service logged (info and up), kept rather than printed, for `deliveryOutcomes`. */
  logs: Record<string, unknown>[];
  teardown(): Promise<void>;
}

/** `env` overrides config keys; as a function it sees the test database first (e.g. to route DATABASE_URL through a proxy). */
export async function createServiceWorld(
  env: Record<string, string> | ((database: TestDatabase) => Record<string, string>) = {},
): Promise<ServiceWorld> {
  const [database, vhost, stub] = await Promise.all([
    createTestDatabase({ migrationsDir: MIGRATIONS_DIR }),
    createTestVhost(),
    startProductStub(),
  ]);
  const config = parseConfig(configShape, {
    PORT: '0',
    DATABASE_URL: database.url,
    AMQP_URL: vhost.url,
    PRODUCT_SERVICE_URL: stub.url,
    ...(typeof env === 'function' ? env(database) : env),
  });
  const { logger, lines: logs } = capturingLogger('info');
  const service = await start(config, { logger });
  const pool = createPgPool(database.url, { max: 3 });
  return {
    service,
    baseUrl: `http://127.0.0.1:${service.port}`,
    database,
    vhost,
    stub,
    pool,
    config,
    logs,
    teardown: async () => {
      await service.close();
      await pool.end();
      await stub.close();
      await Promise.allSettled([database.drop(), vhost.drop()]);
    },
  };
}

/** A durable queue read from the outside with plain amqplib: the broker-side witness. */
export async function probeQueue(url: string, queue: QueueSpec | string) {
  const model = await connect(url);
  const channel = await model.createChannel();
  // A spec is declared (idempotently, as the services do); a bare name must already exist, e.g. a DLQ.
  if (typeof queue !== 'string') await declareTopology(channel, [queue]);
  const name = typeof queue === 'string' ? queue : queue.name;
  const messages: ConsumeMessage[] = [];
  await channel.consume(name, (message) => message && messages.push(message), { noAck: true });
  return {
    messages,
    bodies: () =>
      messages.map(
        (message) =>
          JSON.parse(message.content.toString('utf8')) as {
            type: string;
            data: Record<string, unknown>;
            id: string;
          },
      ),
    close: () => model.close().catch(() => undefined),
  };
}

/** Publishes an event where its producer would (`ROUTES`), with the properties the relay sets. */
export async function publishEvent(url: string, event: AnyEvent): Promise<AnyEvent> {
  const { exchange, routingKey } = ROUTES[event.type];
  await publishRaw(url, exchange, routingKey, JSON.stringify(event), event.id, event.type);
  return event;
}

export async function publishRaw(
  url: string,
  exchange: string,
  routingKey: string,
  body: string,
  messageId?: string,
  type?: string,
) {
  const model = await connect(url);
  const channel = await model.createConfirmChannel();
  channel.publish(exchange, routingKey, Buffer.from(body), {
    persistent: true,
    messageId,
    type,
    contentType: 'application/cloudevents+json',
  });
  await channel.waitForConfirms();
  await model.close();
}
