import { createDatabase, createLogger, createPgPool, createTokenVerifier } from '@shop/platform';
import { createTestDatabase, type TestDatabase } from '@shop/platform/testing';
import { createApp } from '../../src/app';
import { migrationsDir } from '../../src/db/migrations-dir';
import {
  createNotificationRepository,
  type NotificationDb,
  type NotificationRepository,
} from '../../src/db/notification-repository';
import type { DB } from '../../src/generated/database';
import { recordNotification } from '../../src/use-cases/record-notification';
import type { AnyEvent } from '@shop/contracts';

export { JWT_SECRET, tokenFor } from './service';
import { JWT_SECRET } from './service';

export interface TestApp {
  app: ReturnType<typeof createApp>;
  db: NotificationDb;
  notifications: NotificationRepository;
  /** Records events as the consumer would (same use case, no broker). */
  record(...events: AnyEvent[]): Promise<void>;
  close(): Promise<void>;
}

const logger = createLogger('notification-service-test');

/** The HTTP app in-process on a database of its own (migrated); no broker. */
export async function buildTestApp(): Promise<TestApp & { database: TestDatabase }> {
  const database = await createTestDatabase({ migrationsDir: migrationsDir() });
  const db = createDatabase<DB>(createPgPool(database.url));
  const notifications = createNotificationRepository(db);
  const app = createApp({
    notifications,
    tokens: createTokenVerifier({ JWT_SECRET }),
    logger,
    health: { database: async () => ({ status: 'up' }), broker: async () => ({ status: 'down', detail: 'no broker in this test' }) },
  });
  return {
    app,
    db,
    database,
    notifications,
    record: async (...events) => {
      for (const event of events) await recordNotification(notifications, event, {
          claim: { consumer: 'test', eventId: event.id },
          logger,
        });
    },
    close: async () => {
      await db.destroy();
      await database.drop();
    },
  };
}
