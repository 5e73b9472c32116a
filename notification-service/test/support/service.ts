import { connect, type ChannelModel, type GetMessage } from 'amqplib';
import { EXCHANGES, QUEUES, ROUTES, deadLetterQueueOf, type AnyEvent } from '@shop/contracts';
import { createDatabase, createPgPool, parseConfig, signToken } from '@shop/platform';
import { capturingLogger, createTestDatabase, createTestVhost, type TestDatabase, type TestVhost } from '@shop/platform/testing';
import { configShape, migrationsDir, start, type RunningService } from '../../src';
import type { DB } from '../../src/generated/database';

export const JWT_SECRET = 'notification-service-test-secret';

export interface TestService {
  service: RunningService;
  url: string;
  database: TestDatabase;
  vhost: TestVhost;
  broker: ChannelModel;
  /** Every line the service logged (info and up), for `deliveryOutcomes`. */
  logs: Record<string, unknown>[];
  publish(event: AnyEvent | { exchange: string; routingKey: string; body: string }): Promise<void>;
  /** Takes every message now sitting in the notification queue's DLQ. */
  drainDeadLetters(): Promise<GetMessage[]>;
  notificationsOf(eventId: string): Promise<Array<{ event_type: string; order_id: number; user_id: number | null; message: string }>>;
  close(): Promise<void>;
}

/** The whole service in-process (port 0) on its own database and its own RabbitMQ vhost. */
export async function startTestService(): Promise<TestService> {
  const [database, vhost] = await Promise.all([createTestDatabase({ migrationsDir: migrationsDir() }), createTestVhost()]);
  const config = parseConfig(configShape, {
    PORT: '0',
    DATABASE_URL: database.url,
    AMQP_URL: vhost.url,
    JWT_SECRET,
    CONSUMER_MAX_ATTEMPTS: '2',
  });
  // Kept, not printed: tests read the consumer's lines to know how it settled a delivery.
  const { logger, lines: logs } = capturingLogger('info');
  const service = await start(config, { logger, brokerWaitMs: 15_000, retryBackoff: { initialMs: 10, maxMs: 50 } });
  // The test's own connection to the service's database, to read what it recorded.
  const db = createDatabase<DB>(createPgPool(database.url, { max: 2 }));
  const broker = await connect(vhost.url);
  const channel = await broker.createConfirmChannel();
  const inspect = await broker.createChannel();
  return {
    service,
    url: `http://127.0.0.1:${service.port}`,
    database,
    vhost,
    broker,
    logs,
    publish: async (message) => {
      const { exchange, routingKey, body, id } =
        'specversion' in message
          ? { ...ROUTES[message.type], body: JSON.stringify(message), id: message.id }
          : { ...message, id: undefined };
      channel.publish(exchange, routingKey, Buffer.from(body), {
        persistent: true,
        contentType: 'application/cloudevents+json',
        messageId: id,
      });
      await channel.waitForConfirms();
    },
    drainDeadLetters: async () => {
      const messages: GetMessage[] = [];
      for (;;) {
        const message = await inspect.get(deadLetterQueueOf(QUEUES.notificationEvents.name), { noAck: true });
        if (!message) return messages;
        messages.push(message);
      }
    },
    notificationsOf: (eventId) =>
      db
        .selectFrom('notifications')
        .select(['event_type', 'order_id', 'user_id', 'message'])
        .where('event_id', '=', eventId)
        .execute(),
    close: async () => {
      await broker.close().catch(() => undefined);
      await service.close();
      await db.destroy();
      await Promise.allSettled([database.drop(), vhost.drop()]);
    },
  };
}

export { EXCHANGES };

export const tokenFor = (userId: number, roles: string[] = []) => signToken({ userId, roles }, JWT_SECRET);
