import request from 'supertest';
import {
  createLogger,
  createMetrics,
  createOutboxProbe,
  createTokenVerifier,
  databaseCheck,
  outboxLagCheck,
} from '@shop/platform';
import { createTestDatabase, type TestDatabase } from '@shop/platform/testing';
import { createApp } from '../../src/app';
import { migrationsDir } from '../../src/db/migrations-dir';
import { createPool, type Pool } from '../../src/db/pool';
import { createPrismaClient, type Db } from '../../src/db/prisma';
import { createProductRepository } from '../../src/db/product-repository';
import { adminToken, buildProductBody, JWT_SECRET } from '../support/build-app';

const logger = createLogger('product-service-observability-test');
logger.silent = !process.env.LOG_LEVEL;

describe('product-service: /metrics and /health/ready', () => {
  let database: TestDatabase;
  let db: Db;
  let pool: Pool;
  let app: ReturnType<typeof createApp>;
  const metrics = createMetrics();

  beforeAll(async () => {
    database = await createTestDatabase({ migrationsDir: migrationsDir() });
    db = createPrismaClient(database.url);
    pool = createPool(database.url);
    const probe = createOutboxProbe((sql) => db.$queryRawUnsafe(sql));
    app = createApp({
      products: createProductRepository(pool),
      tokens: createTokenVerifier({ JWT_SECRET }),
      logger,
      metrics,
      health: {
        database: databaseCheck(() => db.$queryRaw`SELECT 1`),
        broker: async () => ({ status: 'up' }),
        outboxLag: outboxLagCheck(probe, 60),
      },
    });
  });
  afterEach(() => db.$executeRawUnsafe('DELETE FROM outbox_events'));
  afterAll(async () => {
    await db.$disconnect();
    await pool.end();
    await database.drop();
  });

  test('after a product is read, /metrics answers Prometheus text with its route pattern, not its URL', async () => {
    // Arrange
    const created = await request(app)
      .post('/api/v1/products')
      .set('Authorization', `Bearer ${await adminToken()}`)
      .send(buildProductBody())
      .expect(201);

    // Act
    await request(app).get(`/api/v1/products/${created.body.id}`).expect(200);
    const response = await request(app).get('/metrics').expect(200);

    // Assert
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/products\/:id",status="200"\} 1/,
    );
    expect(response.text).toMatch(
      /http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/products",status="201"\} 1/,
    );
    expect(response.text).not.toContain(`/api/v1/products/${created.body.id}"`);
  });

  test('/health/ready answers 503 while an unpublished event is older than OUTBOX_MAX_LAG, 200 when none is', async () => {
    // Arrange
    const readyBefore = await request(app).get('/health/ready');
    await db.$executeRawUnsafe(`
      INSERT INTO outbox_events (id, aggregate_type, aggregate_id, sequence, type, exchange, routing_key, payload, created_at)
      VALUES (gen_random_uuid(), 'stock_reservation', '1', 1, 'StockReserved', 'inventory', 'stock.reserved', '{}',
              now() - interval '2 minutes')`);

    // Act
    const readyAfter = await request(app).get('/health/ready');

    // Assert
    expect(readyBefore.status).toBe(200);
    expect(readyAfter.status).toBe(503);
    expect(readyAfter.body.checks.outbox).toMatchObject({ status: 'down' });
    expect((await request(app).get('/health')).status).toBe(200);
  });
});
