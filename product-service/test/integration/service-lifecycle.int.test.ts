import { parseConfig } from '@shop/platform';
import {
  createTestDatabase,
  createTestVhost,
  type TestDatabase,
  type TestVhost,
} from '@shop/platform/testing';
import request from 'supertest';
import { configShape } from '../../src/config';
import { migrationsDir } from '../../src/db/migrations-dir';
import { start, type RunningService } from '../../src/server';

let database: TestDatabase;
let vhost: TestVhost;
const running: RunningService[] = [];
beforeAll(async () => {
  [database, vhost] = await Promise.all([
    createTestDatabase({ migrationsDir: migrationsDir() }),
    createTestVhost(),
  ]);
});
afterAll(async () => {
  await Promise.allSettled(running.map((service) => service.close()));
  await Promise.allSettled([database?.drop(), vhost?.drop()]);
});

async function startWith(env: Record<string, string>) {
  const config = parseConfig(configShape, {
    PORT: '0',
    LOG_LEVEL: 'error',
    DATABASE_URL: database.url,
    AMQP_URL: vhost.url,
    ...env,
  });
  const service = await start(config);
  running.push(service);
  return { service, http: request(`http://127.0.0.1:${service.port}`) };
}

it('when the database and RabbitMQ are reachable, /health is 200 ok with both up', async () => {
  const { http } = await startWith({ BROKER_STARTUP_WAIT_MS: '15000' });

  const response = await http.get('/health').expect(200);

  expect(response.body).toMatchObject({
    status: 'ok',
    service: 'product-service',
    checks: { database: { status: 'up' }, broker: { status: 'up' } },
  });
});

it('when RabbitMQ is unreachable, the service still starts and serves, and /health is 200 degraded naming the broker', async () => {
  const { http } = await startWith({
    AMQP_URL: 'amqp://guest:guest@127.0.0.1:1',
    BROKER_STARTUP_WAIT_MS: '200',
  });

  const health = await http.get('/health').expect(200);
  await http.get('/api/v1/products').expect(200);

  expect(health.body).toMatchObject({
    status: 'degraded',
    checks: { database: { status: 'up' }, broker: { status: 'down' } },
  });
});

it('when the database is unreachable, /health is 503 down', async () => {
  const unreachable = new URL(database.url);
  unreachable.port = '1';
  const { http } = await startWith({ DATABASE_URL: unreachable.toString(), BROKER_STARTUP_WAIT_MS: '15000' });

  const response = await http.get('/health').expect(503);

  expect(response.body).toMatchObject({ status: 'down', checks: { database: { status: 'down' } } });
});

it('when the service is closed, it stops listening', async () => {
  const { service } = await startWith({ BROKER_STARTUP_WAIT_MS: '15000' });
  running.splice(running.indexOf(service), 1);

  await service.close();

  await expect(request(`http://127.0.0.1:${service.port}`).get('/health').timeout(1000)).rejects.toThrow();
});
