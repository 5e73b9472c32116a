import { signToken } from '@shop/platform';
import { createTestDatabase, type TestDatabase } from '@shop/platform/testing';
import * as notifications from '@shop/notification-service';
import * as orders from '@shop/order-service';
import * as products from '@shop/product-service';
import { spawnService, type Exit, type ServiceProcess } from './service-process';

const JWT_SECRET = 'replicated-e2e-secret-0123456789abcdef';
/** Seven processes compile their sources through tsx at once on a 2-core machine. */
const START_TIMEOUT_MS = 180_000;
/**
 * Small pools: 2 sets of instances share the test Postgres with the other jest worker's files,
 * and a few hundred orders need few connections (the order service adds its relay's 3).
 */
const POOL_SIZE = '4';

export type ServiceName = 'product-service' | 'order-service' | 'notification-service';

/** One instance of a service, at the URL the gateway was given for it: what a fault test stops and starts. */
export interface ServiceInstance {
  readonly url: string;
  /** Sends `signal` to its process; resolves with how that process ended. */
  kill(signal: 'SIGKILL' | 'SIGTERM'): Promise<Exit>;
  /**
   * Starts it again, once its process has ended, on the same port with the same environment (the
   * gateway's list of instances is fixed); resolves when it listens.
   */
  restart(): Promise<void>;
}

export interface ReplicatedSystem {
  gatewayUrl: string;
  databases: { products: TestDatabase; orders: TestDatabase; notifications: TestDatabase };
  /** The instances of `service`, in the order the gateway was given them. */
  instances(service: ServiceName): readonly ServiceInstance[];
  /** Every process, for failure messages: name and what it logged. */
  outputs(): string;
  token(userId: number): Promise<string>;
  /** SIGKILL for every process (restarted ones too), then the databases dropped; safe after a half-finished start. */
  stop(): Promise<void>;
}

/**
 * Shop as `npm start -- --replicas 2` runs it, but on databases of its own: two processes each of
 * the product, order and notification services (from their sources, as the other process tests
 * do, so no build is needed) and one gateway given both instances of each, every one of them
 * connected to the broker list `amqpUrl`.
 */
export async function startReplicatedSystem(amqpUrl: string, instances = 2): Promise<ReplicatedSystem> {
  const started: ServiceProcess[] = [];
  const starting = new Set<Promise<ServiceProcess>>();
  const ended = new WeakSet<ServiceProcess>();
  const databases: Partial<ReplicatedSystem['databases']> = {};
  const instancesOf: Record<ServiceName, ServiceInstance[]> = {
    'product-service': [],
    'order-service': [],
    'notification-service': [],
  };
  const stop = async () => {
    // A restart under way is let finish, so its process is killed too rather than left running.
    await Promise.allSettled(starting);
    for (const service of started) service.kill();
    await Promise.all(started.map((service) => service.exited));
    await Promise.all(Object.values(databases).map((database) => database.drop()));
  };
  const spawn = async (dir: string, env: Record<string, string>) => {
    const start = spawnService(dir, dir, { JWT_SECRET, AMQP_URL: amqpUrl, ...env }, START_TIMEOUT_MS).then(
      (service) => {
        started.push(service);
        void service.exited.then(() => ended.add(service));
        return service;
      },
    );
    starting.add(start);
    return start.finally(() => starting.delete(start));
  };
  const spawnInstance = async (service: ServiceName, env: Record<string, string>) => {
    let current = await spawn(service, env);
    instancesOf[service].push({
      url: current.url,
      kill: (signal) => {
        if (signal === 'SIGTERM') current.terminate();
        else current.kill();
        return current.exited;
      },
      restart: async () => {
        if (!ended.has(current)) throw new Error(`${current.url} (${service}) is still running`);
        current = await spawn(service, { ...env, PORT: String(current.port) });
      },
    });
    return current;
  };
  const spawnEach = (service: ServiceName, env: Record<string, string>) =>
    allStarted(Array.from({ length: instances }, () => spawnInstance(service, env)));
  const urlsOf = (services: ServiceProcess[]) => services.map((service) => service.url).join(',');

  try {
    [databases.products, databases.orders, databases.notifications] = await Promise.all([
      createTestDatabase({ migrationsDir: products.migrationsDir() }),
      createTestDatabase({ migrationsDir: orders.migrationsDir() }),
      createTestDatabase({ migrationsDir: notifications.migrationsDir() }),
    ]);
    await products.seedDatabase(databases.products.url);
    const [productServices, notificationServices] = await allStarted([
      spawnEach('product-service', { DATABASE_URL: databases.products.url, DATABASE_POOL_SIZE: POOL_SIZE }),
      spawnEach('notification-service', {
        DATABASE_URL: databases.notifications.url,
        DATABASE_POOL_SIZE: POOL_SIZE,
      }),
    ]);
    const orderServices = await spawnEach('order-service', {
      DATABASE_URL: databases.orders.url,
      DATABASE_POOL_SIZE: POOL_SIZE,
      PRODUCT_SERVICE_URL: urlsOf(productServices),
    });
    const gateway = await spawn('gateway', {
      PRODUCT_SERVICE_URL: urlsOf(productServices),
      ORDER_SERVICE_URL: urlsOf(orderServices),
      NOTIFICATION_SERVICE_URL: urlsOf(notificationServices),
      // The load is one user's hundreds of writes: the limiter is gateway/test's subject, not this.
      RATE_LIMIT_PER_MINUTE: '0',
      RATE_LIMIT_WRITES_PER_MINUTE: '0',
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '0',
      METRICS_PORT: '0',
    });
    return {
      gatewayUrl: gateway.url,
      databases: databases as ReplicatedSystem['databases'],
      instances: (service) => instancesOf[service],
      outputs: () => started.map((service) => service.output()).join('\n'),
      token: (userId) => signToken({ userId, roles: [] }, JWT_SECRET),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Promise.all that still waits for every start, so none is left running unseen after a failure. */
async function allStarted<T extends unknown[]>(starts: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const outcomes = await Promise.allSettled(starts);
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value) as T;
}
