import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureDatabase, migrate } from '@shop/platform';
import { Client, Pool } from 'pg';

const run = promisify(execFile);

export const ROOT = path.resolve(__dirname, '..');
const SERVER_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const AMQP_BASE = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const VHOST = 'shop_bench';

/** The bench's own databases: the three services', and scratch copies of three schemas for the raw baselines. */
export const DATABASES = {
  products: { name: 'shop_bench_products', migrations: 'product-service' },
  orders: { name: 'shop_bench_orders', migrations: 'order-service' },
  notifications: { name: 'shop_bench_notifications', migrations: 'notification-service' },
  baselineOrders: { name: 'shop_bench_baseline_orders', migrations: 'order-service' },
  baselineProducts: { name: 'shop_bench_baseline_products', migrations: 'product-service' },
  baselineNotifications: { name: 'shop_bench_baseline_notifications', migrations: 'notification-service' },
} as const;
export type DatabaseKey = keyof typeof DATABASES;

export function databaseUrl(key: DatabaseKey): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${DATABASES[key].name}`;
  return url.toString();
}

/**
 * Where phase 4's raw baseline runs the product service's relay: a vhost of its own on the same
 * broker, so what it publishes reaches no queue of Shop's.
 */
export const BASELINE_VHOST = 'shop_bench_baseline';

export const amqpUrl = (vhost = VHOST): string => `${AMQP_BASE.replace(/\/$/, '')}/${vhost}`;

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Drops whatever a crashed earlier run left, then creates and migrates every bench database. */
export async function createDatabases(): Promise<void> {
  await dropDatabases();
  for (const key of Object.keys(DATABASES) as DatabaseKey[]) {
    const url = databaseUrl(key);
    await ensureDatabase(url);
    await migrate({
      connectionString: url,
      migrationsDir: path.join(ROOT, DATABASES[key].migrations, 'prisma', 'migrations'),
    });
  }
}

export async function dropDatabases(): Promise<void> {
  await admin(async (client) => {
    for (const { name } of Object.values(DATABASES))
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
}

const rabbitmqctl = (...args: string[]) => run('rabbitmqctl', ['-q', ...args]);

/** A fresh vhost of the bench's own, so its exchanges and queues never meet a developer's. */
export async function createVhost(vhost = VHOST): Promise<void> {
  await dropVhost(vhost);
  await rabbitmqctl('add_vhost', vhost);
  await rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
}

export async function dropVhost(vhost = VHOST): Promise<void> {
  await rabbitmqctl('delete_vhost', vhost).catch(() => undefined);
}

/** The RabbitMQ a bench system runs on: the vhost `shop_bench` on one broker, or on a cluster. */
export interface BenchBroker {
  /** The vhost on each node: the services get them all (AMQP_URL), the bench's own probes the first. */
  urls: string[];
  createVhost(): Promise<void>;
  dropVhost(): Promise<void>;
  /** Each node's quorum-queue log written out now (`flushQuorumLog`). */
  flushQuorumLog(): Promise<void>;
}

/** The machine's own broker (BENCH_AMQP_URL), as every single-node run uses it. */
export const localBroker: BenchBroker = {
  urls: [amqpUrl()],
  createVhost: () => createVhost(),
  dropVhost: () => dropVhost(),
  flushQuorumLog: () => flushQuorumLog(),
};

/**
 * RabbitMQ's counterpart of the CHECKPOINT a drain's set-up ends with: the quorum queues' shared
 * write-ahead log is rolled over and written out to each queue's segment files now, and waited for.
 * RabbitMQ does that by itself whenever the log reaches 512 MiB (`wal_max_size_bytes`), whatever
 * wrote it (earlier phases, an earlier test run), and a drain it fell in ran at 0.7× (decision 42).
 * `node` names a node other than the machine's own (`rabbitmqctl -n`).
 */
export async function flushQuorumLog(node?: string): Promise<void> {
  const on = node ? ['-n', node] : [];
  await rabbitmqctl(...on, 'eval', 'ra_log_wal:force_roll_over(ra_log_wal).');
  await rabbitmqctl(...on, 'eval', 'ra_log_segment_writer:await(ra_log_segment_writer).');
}

/** One small pool per database, for setup, polling and checks (never on a measured path of Shop). */
export function pools(): Record<DatabaseKey, Pool> & { end(): Promise<void> } {
  const made = Object.fromEntries(
    (Object.keys(DATABASES) as DatabaseKey[]).map((key) => {
      const pool = new Pool({ connectionString: databaseUrl(key), max: 4 });
      pool.on('error', () => undefined); // idle clients die when teardown drops the database
      return [key, pool];
    }),
  ) as Record<DatabaseKey, Pool>;
  return {
    ...made,
    end: async () => void (await Promise.all(Object.values(made).map((pool) => pool.end()))),
  };
}
