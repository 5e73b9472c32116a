import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { signToken } from '@shop/platform';
import type { Pool } from 'pg';
import { amqpUrl, createDatabases, createVhost, databaseUrl, dropDatabases, dropVhost, pools } from './infra';
import { freePort, spawnNode, waitHealthy, type ServiceProcess } from './processes';
import type { ResourceSampler } from './resources';

export const JWT_SECRET = 'bench-secret-0123456789abcdef-0123456789'; // 32+ characters: the services run as production
export const PRODUCT_COUNT = 20;
export const INITIAL_STOCK = 10_000_000;

export type ServiceName = 'product-service' | 'order-service' | 'notification-service' | 'gateway';

export interface BenchProduct {
  id: number;
  name: string;
  price: string;
}

/**
 * Shop as separate processes (so each one's RSS and CPU can be measured) over the bench's own
 * databases and vhost, built from each service's dist/. Everything it creates, `teardown()` removes.
 */
export async function startBenchSystem(
  sampler: ResourceSampler,
  options: { logLevel: string; cpuProfile?: string },
) {
  const logDir = mkdtempSync(path.join(tmpdir(), 'shop-bench-'));
  await Promise.all([createDatabases(), createVhost()]);
  const db = pools();
  const products = await insertProducts([db.products, db.baselineProducts]);

  const ports = {
    product: await freePort(),
    order: await freePort(),
    notification: await freePort(),
    gateway: await freePort(),
  };
  const urlOf = (port: number) => `http://127.0.0.1:${port}`;
  const common = { NODE_ENV: 'production', LOG_LEVEL: options.logLevel, JWT_SECRET, AMQP_URL: amqpUrl() };
  const specs: Record<ServiceName, { entry: string; url: string; env: Record<string, string> }> = {
    'product-service': {
      entry: 'product-service/dist/src/main.js',
      url: urlOf(ports.product),
      env: { ...common, PORT: String(ports.product), DATABASE_URL: databaseUrl('products') },
    },
    'order-service': {
      entry: 'order-service/dist/src/main.js',
      url: urlOf(ports.order),
      env: {
        ...common,
        PORT: String(ports.order),
        DATABASE_URL: databaseUrl('orders'),
        PRODUCT_SERVICE_URL: urlOf(ports.product),
      },
    },
    'notification-service': {
      entry: 'notification-service/dist/src/main.js',
      url: urlOf(ports.notification),
      env: { ...common, PORT: String(ports.notification), DATABASE_URL: databaseUrl('notifications') },
    },
    gateway: {
      entry: 'gateway/dist/src/main.js',
      url: urlOf(ports.gateway),
      env: {
        ...common,
        PORT: String(ports.gateway),
        PRODUCT_SERVICE_URL: urlOf(ports.product),
        ORDER_SERVICE_URL: urlOf(ports.order),
        NOTIFICATION_SERVICE_URL: urlOf(ports.notification),
        // The bench measures the spine, not the limiter's 429s: one user sends hundreds of orders a second.
        RATE_LIMIT_PER_MINUTE: '0',
        RATE_LIMIT_WRITES_PER_MINUTE: '0',
        RATE_LIMIT_ANONYMOUS_PER_MINUTE: '0',
        METRICS_PORT: '0', // not scraped here; 0 so a running `npm start` (9400) cannot collide
      },
    },
  };
  const running = new Map<ServiceName, ServiceProcess>();
  const extra = new Set<ServiceProcess>();
  const profiled = new Set(options.cpuProfile?.split(',') ?? []);
  const nodeArgs = (role: string) =>
    profiled.has(role)
      ? ['--cpu-prof', `--cpu-prof-dir=${logDir}`, `--cpu-prof-name=${role}.${Date.now()}.cpuprofile`]
      : [];

  async function start(name: ServiceName): Promise<void> {
    const spec = specs[name];
    const service = spawnNode({
      role: name,
      entry: spec.entry,
      env: spec.env,
      logDir,
      sampler,
      nodeArgs: nodeArgs(name),
    });
    running.set(name, service);
    await waitHealthy(service, spec.url);
    sampler.ready(service.pid, name);
  }

  async function stop(name: ServiceName): Promise<void> {
    await running.get(name)?.stop();
    running.delete(name);
  }

  try {
    for (const name of ['product-service', 'order-service', 'notification-service', 'gateway'] as const)
      await start(name);
  } catch (error) {
    await Promise.all([...running.keys()].map(stop));
    await db.end();
    throw Object.assign(error as Error, { logDir });
  }

  return {
    db,
    products,
    logDir,
    gatewayUrl: specs.gateway.url,
    serviceUrl: (name: ServiceName) => specs[name].url,
    start,
    stop,
    isRunning: (name: ServiceName) => running.has(name),
    token: (userId: number) => signToken({ userId, roles: [] }, JWT_SECRET),
    /** A stand-alone outbox relay of the order service (`order-service/dist/src/relay.js`). */
    spawnOrderRelay(): ServiceProcess {
      const relay = spawnNode({
        role: 'order-relay',
        entry: 'order-service/dist/src/relay.js',
        env: { ...specs['order-service'].env, LOG_LEVEL: options.logLevel },
        logDir,
        sampler,
        nodeArgs: nodeArgs('order-relay'),
      });
      extra.add(relay);
      return relay;
    },
    logs: () => [...running.values(), ...extra].map((service) => service.logFile),
    async teardown(keepLogs: boolean): Promise<void> {
      await Promise.all([...extra].map((service) => service.stop()));
      await stop('gateway');
      await Promise.all((['order-service', 'notification-service', 'product-service'] as const).map(stop));
      await db.end();
      await Promise.all([dropDatabases(), dropVhost()]);
      if (!keepLogs) rmSync(logDir, { recursive: true, force: true });
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

export async function dropLeftovers(): Promise<void> {
  await Promise.all([dropDatabases(), dropVhost()]);
}
