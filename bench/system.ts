import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { signToken } from '@shop/platform';
import type { Pool } from 'pg';
import {
  BASELINE_VHOST,
  createDatabases,
  databaseUrl,
  dropDatabases,
  dropVhost,
  pools,
  type BenchBroker,
} from './infra';
import { freePorts, spawnNode, waitHealthy, type ServiceProcess } from './processes';
import type { ResourceSampler } from './resources';

export const JWT_SECRET = 'bench-secret-0123456789abcdef-0123456789'; // 32+ characters: the services run as production
export const PRODUCT_COUNT = 20;
export const INITIAL_STOCK = 10_000_000;
/** The services' OUTBOX_RETENTION and INBOX_RETENTION in the bench: longer than phase 5's history. */
export const SERVICE_RETENTION_SECONDS = 30 * 24 * 3600;

export type ServiceName = 'product-service' | 'order-service' | 'notification-service' | 'gateway';

export interface BenchProduct {
  id: number;
  name: string;
  price: string;
}

export interface SystemOptions {
  logLevel: string;
  cpuProfile?: string;
  broker: BenchBroker;
  /** Instances each of the product, order and notification services; the one gateway is given all of them. */
  instances: number;
  /** DATABASE_POOL_SIZE per service, where several sets of instances must share Postgres's connections. */
  poolSizes?: Partial<Record<ServiceName, number>>;
}

const SERVICES = ['product-service', 'order-service', 'notification-service', 'gateway'] as const;

/**
 * Shop as separate processes (so each one's RSS and CPU can be measured) over the bench's own
 * databases and vhost, built from each service's dist/. Everything it creates, `teardown()` removes.
 * `start` and `stop` act on every instance of a service; the sampler adds up a service's instances.
 */
export async function startBenchSystem(sampler: ResourceSampler, options: SystemOptions) {
  const logDir = mkdtempSync(path.join(tmpdir(), 'shop-bench-'));
  await Promise.all([createDatabases(), options.broker.createVhost()]);
  const db = pools();
  const products = await insertProducts([db.products, db.baselineProducts]);

  const ports = await portsFor(options.instances);
  const urlsOf = (name: ServiceName) => ports[name].map((port) => `http://127.0.0.1:${port}`);
  const listOf = (name: ServiceName) => urlsOf(name).join(',');
  const env = serviceEnvironments(options, listOf);
  const running = new Map<ServiceName, ServiceProcess[]>();
  const extra = new Set<ServiceProcess>();
  const profiled = new Set(options.cpuProfile?.split(',') ?? []);
  const nodeArgs = (role: string) =>
    profiled.has(role)
      ? ['--cpu-prof', `--cpu-prof-dir=${logDir}`, `--cpu-prof-name=${role}.${Date.now()}.cpuprofile`]
      : [];

  async function startInstance(name: ServiceName, index: number): Promise<ServiceProcess> {
    const port = ports[name][index];
    const service = spawnNode({
      role: name,
      logName: ports[name].length > 1 ? `${name}-${index + 1}` : name,
      entry: `${name}/dist/src/main.js`,
      env: { ...env[name], PORT: String(port) },
      logDir,
      sampler,
      nodeArgs: nodeArgs(name),
    });
    running.set(name, [...(running.get(name) ?? []), service]);
    await waitHealthy(service, `http://127.0.0.1:${port}`);
    sampler.ready(service.pid, name);
    return service;
  }

  async function start(name: ServiceName): Promise<void> {
    await Promise.all(ports[name].map((_, index) => startInstance(name, index)));
  }

  async function stop(name: ServiceName): Promise<void> {
    await Promise.all((running.get(name) ?? []).map((service) => service.stop()));
    running.delete(name);
  }

  try {
    for (const name of SERVICES) await start(name);
  } catch (error) {
    await Promise.all([...running.keys()].map(stop));
    await db.end();
    throw Object.assign(error as Error, { logDir });
  }

  return {
    db,
    products,
    logDir,
    broker: options.broker,
    gatewayUrl: urlsOf('gateway')[0],
    start,
    stop,
    isRunning: (name: ServiceName) => running.has(name),
    token: (userId: number) => signToken({ userId, roles: [] }, JWT_SECRET),
    /** A stand-alone outbox relay of the order service (`order-service/dist/src/relay.js`). */
    spawnOrderRelay(): ServiceProcess {
      const relay = spawnNode({
        role: 'order-relay',
        entry: 'order-service/dist/src/relay.js',
        env: { ...env['order-service'], LOG_LEVEL: options.logLevel },
        logDir,
        sampler,
        nodeArgs: nodeArgs('order-relay'),
      });
      extra.add(relay);
      return relay;
    },
    logs: () => [...[...running.values()].flat(), ...extra].map((service) => service.logFile),
    async teardown(keepLogs: boolean): Promise<void> {
      await Promise.all([...extra].map((service) => service.stop()));
      await stop('gateway');
      await Promise.all((['order-service', 'notification-service', 'product-service'] as const).map(stop));
      await db.end();
      await Promise.all([dropDatabases(), options.broker.dropVhost()]);
      if (!keepLogs) rmSync(logDir, { recursive: true, force: true });
    },
  };
}

/** A free port for each instance: `instances` of each service but the gateway, which is one. */
async function portsFor(instances: number): Promise<Record<ServiceName, number[]>> {
  const count = (name: ServiceName) => (name === 'gateway' ? 1 : instances);
  const free = await freePorts(SERVICES.reduce((sum, name) => sum + count(name), 0));
  return Object.fromEntries(SERVICES.map((name) => [name, free.splice(0, count(name))])) as Record<
    ServiceName,
    number[]
  >;
}

/** Each service's environment but its PORT; `listOf` names every instance of a service, comma-separated. */
function serviceEnvironments(
  options: SystemOptions,
  listOf: (name: ServiceName) => string,
): Record<ServiceName, Record<string, string>> {
  const common = {
    NODE_ENV: 'production',
    LOG_LEVEL: options.logLevel,
    JWT_SECRET,
    AMQP_URL: options.broker.urls.join(','),
    // Phase 5 writes HISTORY_DAYS of history and times retention itself: the services' own
    // partition maintenance (at every start) must not drop any of it first.
    OUTBOX_RETENTION: String(SERVICE_RETENTION_SECONDS),
    INBOX_RETENTION: String(SERVICE_RETENTION_SECONDS),
  };
  const pool = (name: ServiceName): Record<string, string> => {
    const size = options.poolSizes?.[name];
    return size === undefined ? {} : { DATABASE_POOL_SIZE: String(size) };
  };
  return {
    'product-service': { ...common, ...pool('product-service'), DATABASE_URL: databaseUrl('products') },
    'order-service': {
      ...common,
      ...pool('order-service'),
      DATABASE_URL: databaseUrl('orders'),
      PRODUCT_SERVICE_URL: listOf('product-service'),
    },
    'notification-service': {
      ...common,
      ...pool('notification-service'),
      DATABASE_URL: databaseUrl('notifications'),
    },
    gateway: {
      ...common,
      PRODUCT_SERVICE_URL: listOf('product-service'),
      ORDER_SERVICE_URL: listOf('order-service'),
      NOTIFICATION_SERVICE_URL: listOf('notification-service'),
      // The bench measures the spine, not the limiter's 429s: one user sends hundreds of orders a second.
      RATE_LIMIT_PER_MINUTE: '0',
      RATE_LIMIT_WRITES_PER_MINUTE: '0',
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '0',
      METRICS_PORT: '0', // not scraped here; 0 so a running `npm start` (9400) cannot collide
    },
  };
}

export type BenchSystem = Awaited<ReturnType<typeof startBenchSystem>>;

/** The bench catalogue: PRODUCT_COUNT products with stock high enough that no order ever runs short. */
async function insertProducts(targets: Pool[]): Promise<BenchProduct[]> {
  const products = Array.from({ length: PRODUCT_COUNT }, (_, index) => ({
    id: index + 1,
    name: `Bench product ${index + 1}`,
    price: `${(index % 9) + 1}.${String((index * 37) % 100).padStart(2, '0')}`,
  }));
  for (const pool of targets) {
    await pool.query(
      `INSERT INTO products (id, name, description, price, stock)
       SELECT id, name, NULL, price::numeric, $4 FROM unnest($1::int[], $2::text[], $3::text[]) AS p(id, name, price)`,
      [products.map((p) => p.id), products.map((p) => p.name), products.map((p) => p.price), INITIAL_STOCK],
    );
    await pool.query(`SELECT setval(pg_get_serial_sequence('products', 'id'), $1)`, [PRODUCT_COUNT]);
  }
  return products;
}

export async function dropLeftovers(broker: BenchBroker): Promise<void> {
  await Promise.all([dropDatabases(), broker.dropVhost(), dropVhost(BASELINE_VHOST)]);
}
