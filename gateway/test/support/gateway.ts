import { parseConfig, signToken, type Logger } from '@shop/platform';
import { configShape, start, type RunningGateway } from '../../src';
import { startStubService, type StubService } from './stub-service';

export const SECRET = 'gateway-test-secret-0123456789';

export interface TestGateway {
  url: string;
  /** Base URL of the gateway's internal metrics listener. */
  metricsUrl: string;
  products: StubService;
  orders: StubService;
  notifications: StubService;
  gateway: RunningGateway;
  close(): Promise<void>;
}

/** Three stub services and a gateway in front of them, on free ports (logging to `options.logger` if given). */
export async function startTestGateway(
  env: Record<string, string> = {},
  options: { logger?: Logger } = {},
): Promise<TestGateway> {
  const [products, orders, notifications] = await Promise.all([
    startStubService('product-service'),
    startStubService('order-service'),
    startStubService('notification-service'),
  ]);
  const config = parseConfig(configShape, {
    PORT: '0',
    METRICS_PORT: '0',
    JWT_SECRET: SECRET,
    LOG_LEVEL: 'error',
    PRODUCT_SERVICE_URL: products.url,
    ORDER_SERVICE_URL: orders.url,
    NOTIFICATION_SERVICE_URL: notifications.url,
    ...env,
  });
  const gateway = await start(config, options);
  return {
    url: `http://127.0.0.1:${gateway.port}`,
    metricsUrl: `http://127.0.0.1:${gateway.metricsPort}`,
    products,
    orders,
    notifications,
    gateway,
    close: async () => {
      await gateway.close();
      await Promise.all([products.close(), orders.close(), notifications.close()]);
    },
  };
}

export const tokenFor = (userId: number, roles: string[] = []) => signToken({ userId, roles }, SECRET);
export const bearer = async (userId: number, roles: string[] = []) => `Bearer ${await tokenFor(userId, roles)}`;
