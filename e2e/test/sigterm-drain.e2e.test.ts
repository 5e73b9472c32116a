import type { Server } from 'node:http';
import express from 'express';
import { Client } from 'pg';
import { listen, parseConfig, portOf, signToken } from '@shop/platform';
import {
  createTestDatabase,
  createTestVhost,
  type TestDatabase,
  type TestVhost,
} from '@shop/platform/testing';
import * as gateway from '@shop/gateway';
import * as orders from '@shop/order-service';
import * as products from '@shop/product-service';
import { startKeepAliveLoad, type Outcome } from './support/keep-alive-load';
import { spawnService, type ServiceProcess } from './support/service-process';

const JWT_SECRET = 'sigterm-drain-secret-0123456789';
/** Shorter than the 10 s default so a drain that hangs fails the test quickly (it exits 1 at the timeout). */
const SHUTDOWN_TIMEOUT_MS = '5000';
/** Concurrent keep-alive clients: enough that some request is always in flight when the signal comes. */
const WORKERS = 6;

const problemCode = (outcome: Outcome) => {
  try {
    return (JSON.parse(outcome.body ?? '') as { code?: string }).code;
  } catch {
    return undefined;
  }
};
/** The gateway's answer for a service that is not there (refused or reset before answering). */
const isServiceUnavailable = (outcome: Outcome) =>
  outcome.status === 503 && problemCode(outcome) === 'service_unavailable';
const brief = (outcome: Outcome) => ({ ...outcome, headers: undefined });
/** The process's last log lines, for the failure message when it did not exit 0. */
const tail = (service: ServiceProcess) => service.output().split('\n').slice(-12).join('\n');

/**
 * A rolling deploy sends SIGTERM while traffic flows (SPEC §6 "Processes"). The service under test
 * runs as its own process from its main.ts, so its signal handling and exit code are the real ones;
 * the client sends through the gateway over keep-alive sockets, as any pooling client does.
 */
describe('SIGTERM under keep-alive load', () => {
  jest.setTimeout(90_000);

  describe('the order service', () => {
    let vhost: TestVhost;
    let productsDb: TestDatabase;
    let ordersDb: TestDatabase;
    let product: { port: number; close(): Promise<void> };
    let edge: { port: number; close(): Promise<void> };
    let service: ServiceProcess;

    beforeAll(async () => {
      [vhost, productsDb, ordersDb] = await Promise.all([
        createTestVhost(),
        createTestDatabase({ migrationsDir: products.migrationsDir() }),
        createTestDatabase({ migrationsDir: orders.migrationsDir() }),
      ]);
      await products.seedDatabase(productsDb.url);
      // Enough stock that no order of the load is refused for it.
      await query(productsDb.url, 'UPDATE products SET stock = 1000000 WHERE id = 1');
      const common = { PORT: '0', JWT_SECRET, AMQP_URL: vhost.url, LOG_LEVEL: 'error' };
      product = await products.start(
        parseConfig(products.configShape, { ...common, DATABASE_URL: productsDb.url }),
      );
      const productUrl = `http://127.0.0.1:${product.port}`;
      service = await spawnService('order-service', 'order-service', {
        JWT_SECRET,
        AMQP_URL: vhost.url,
        DATABASE_URL: ordersDb.url,
        PRODUCT_SERVICE_URL: productUrl,
        SHUTDOWN_TIMEOUT_MS,
      });
      edge = await gateway.start(
        parseConfig(gateway.configShape, {
          ...common,
          METRICS_PORT: '0',
          RATE_LIMIT_PER_MINUTE: '0',
          RATE_LIMIT_WRITES_PER_MINUTE: '0',
          PRODUCT_SERVICE_URL: productUrl,
          ORDER_SERVICE_URL: service.url,
          NOTIFICATION_SERVICE_URL: 'http://127.0.0.1:9',
        }),
      );
    });
    afterAll(async () => {
      service?.kill();
      await edge?.close();
      await product?.close();
      await Promise.all([vhost?.drop(), productsDb?.drop(), ordersDb?.drop()]);
    });

    test('every order it took before or during its drain is answered in full, the rest get the gateway’s 503, no key stays in flight, and it exits 0', async () => {
      const token = await signToken({ userId: 7, roles: [] }, JWT_SECRET);
      const keyOf = (id: number) => `sigterm-${id}`;
      const load = startKeepAliveLoad({
        url: `http://127.0.0.1:${edge.port}`,
        workers: WORKERS,
        next: (id) => ({
          method: 'POST',
          path: '/api/v1/orders',
          headers: {
            Authorization: `Bearer ${token}`,
            'Content-Type': 'application/json',
            'Idempotency-Key': keyOf(id),
          },
          body: JSON.stringify({ items: [{ product_id: 1, quantity: 1 }] }),
        }),
      });

      await load.settledIn('before', 30);
      service.terminate();
      load.mark('signalled');
      const exit = await service.exited;
      load.mark('exited');
      await load.settledIn('exited', WORKERS);
      const outcomes = await load.stop();

      expect({ exit, log: exit.code === 0 ? '' : tail(service) }).toEqual({
        exit: { code: 0, signal: null },
        log: '',
      });
      expect(outcomes.filter((outcome) => outcome.error).map(brief)).toEqual([]);
      expect(outcomes.filter((o) => o.status !== 201 && !isServiceUnavailable(o)).map(brief)).toEqual([]);
      // The signal came with orders in flight, and they were answered in full.
      expect(outcomes.some((o) => o.sent === 'before' && o.settled !== 'before' && o.status === 201)).toBe(
        true,
      );
      // A draining service tells the gateway to drop its socket; that is not the gateway's clients' business.
      expect(outcomes.filter((o) => o.headers?.connection === 'close').map(brief)).toEqual([]);
      // The service took exactly the orders it answered: each 201 is a completed key, each 503 left nothing.
      const keys = await query<{ key: string; status: string }>(
        ordersDb.url,
        'SELECT key, status FROM idempotency_keys',
      );
      expect(keys.filter((row) => row.status !== 'done')).toEqual([]);
      expect(keys.map((row) => row.key).sort()).toEqual(
        outcomes
          .filter((o) => o.status === 201)
          .map((o) => keyOf(o.id))
          .sort(),
      );
    });
  });

  describe('the gateway', () => {
    let backend: Server;
    const seen = new Set<string>();
    let edge: ServiceProcess;

    beforeAll(async () => {
      // A product service that takes a little while per request, so requests are in flight at the signal.
      const app = express();
      app.get('/api/v1/products', (req, res) => {
        const id = String(req.headers['x-load-id']);
        seen.add(id);
        setTimeout(() => res.json({ id }), 20);
      });
      backend = await listen(app, 0, '127.0.0.1');
      edge = await spawnService('gateway', 'gateway', {
        JWT_SECRET,
        METRICS_PORT: '0',
        METRICS_HOST: '127.0.0.1',
        RATE_LIMIT_PER_MINUTE: '0',
        RATE_LIMIT_ANONYMOUS_PER_MINUTE: '0',
        SHUTDOWN_TIMEOUT_MS,
        PRODUCT_SERVICE_URL: `http://127.0.0.1:${portOf(backend)}`,
        ORDER_SERVICE_URL: 'http://127.0.0.1:9',
        NOTIFICATION_SERVICE_URL: 'http://127.0.0.1:9',
      });
    });
    afterAll(async () => {
      edge?.kill();
      backend?.closeAllConnections();
      await new Promise((resolve) => backend?.close(resolve));
    });

    test('every request it took is answered in full, the rest are refused before any answer, and it exits 0', async () => {
      const load = startKeepAliveLoad({
        url: edge.url,
        workers: WORKERS,
        next: (id) => ({ method: 'GET', path: '/api/v1/products', headers: { 'X-Load-Id': String(id) } }),
      });

      await load.settledIn('before', 30);
      edge.terminate();
      load.mark('signalled');
      const exit = await edge.exited;
      load.mark('exited');
      await load.settledIn('exited', WORKERS);
      const outcomes = await load.stop();

      expect({ exit, log: exit.code === 0 ? '' : tail(edge) }).toEqual({
        exit: { code: 0, signal: null },
        log: '',
      });
      const answered = outcomes.filter((o) => !o.error);
      expect(
        answered
          .filter((o) => o.status !== 200 || o.body !== JSON.stringify({ id: String(o.id) }))
          .map(brief),
      ).toEqual([]);
      // A request the gateway took reached the service; every one of those was answered.
      const taken = outcomes.filter((o) => seen.has(String(o.id)));
      expect(taken.filter((o) => o.error).map(brief)).toEqual([]);
      // What failed never got a byte of an answer: a refused connection, or a socket the gateway closed while idle.
      expect(outcomes.filter((o) => o.error?.midResponse).map(brief)).toEqual([]);
      expect(outcomes.some((o) => o.sent === 'before' && o.settled !== 'before' && o.status === 200)).toBe(
        true,
      );
    });
  });
});

async function query<T = Record<string, unknown>>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}
