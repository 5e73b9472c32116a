import { parseConfig, signToken } from '@shop/platform';
import { createTestDatabase, createTestVhost, type TestDatabase, type TestVhost } from '@shop/platform/testing';
import * as gateway from '@shop/gateway';
import * as notifications from '@shop/notification-service';
import * as orders from '@shop/order-service';
import * as products from '@shop/product-service';

export const JWT_SECRET = 'e2e-secret-0123456789abcdef';

export interface RunningSystem {
  /** Base URL of the gateway, e.g. http://127.0.0.1:41234 */
  url: string;
  vhost: TestVhost;
  databases: { products: TestDatabase; orders: TestDatabase; notifications: TestDatabase };
  token(userId: number, options?: { admin?: boolean }): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The whole of Shop in this process: its own three databases (migrated, catalogue seeded) and its
 * own RabbitMQ vhost, the four services on free ports, wired to each other as `npm start` wires them.
 */
export async function startSystem(env: Record<string, string> = {}): Promise<RunningSystem> {
  const [vhost, productsDb, ordersDb, notificationsDb] = await Promise.all([
    createTestVhost(),
    createTestDatabase({ migrationsDir: products.migrationsDir() }),
    createTestDatabase({ migrationsDir: orders.migrationsDir() }),
    createTestDatabase({ migrationsDir: notifications.migrationsDir() }),
  ]);
  await products.seedDatabase(productsDb.url);
  const common = { PORT: '0', JWT_SECRET, AMQP_URL: vhost.url, LOG_LEVEL: 'error', ...env };

  const product = await products.start(parseConfig(products.configShape, { ...common, DATABASE_URL: productsDb.url }));
  const productUrl = `http://127.0.0.1:${product.port}`;
  const order = await orders.start(
    parseConfig(orders.configShape, { ...common, DATABASE_URL: ordersDb.url, PRODUCT_SERVICE_URL: productUrl }),
  );
  const notification = await notifications.start(
    parseConfig(notifications.configShape, { ...common, DATABASE_URL: notificationsDb.url }),
  );
  const edge = await gateway.start(
    parseConfig(gateway.configShape, {
      // These tests follow flows and floods of odd requests, not the limiter (gateway/test covers
      // it), so limits are off unless a test passes its own; metrics on a free port, never 9400.
      RATE_LIMIT_PER_MINUTE: '0',
      RATE_LIMIT_WRITES_PER_MINUTE: '0',
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '0',
      METRICS_PORT: '0',
      ...common,
      PRODUCT_SERVICE_URL: productUrl,
      ORDER_SERVICE_URL: `http://127.0.0.1:${order.port}`,
      NOTIFICATION_SERVICE_URL: `http://127.0.0.1:${notification.port}`,
    }),
  );

  return {
    url: `http://127.0.0.1:${edge.port}`,
    vhost,
    databases: { products: productsDb, orders: ordersDb, notifications: notificationsDb },
    token: (userId, options = {}) => signToken({ userId, roles: options.admin ? ['admin'] : [] }, JWT_SECRET),
    stop: async () => {
      await edge.close();
      await Promise.all([order.close(), product.close(), notification.close()]);
      await Promise.all([productsDb.drop(), ordersDb.drop(), notificationsDb.drop(), vhost.drop()]);
    },
  };
}
