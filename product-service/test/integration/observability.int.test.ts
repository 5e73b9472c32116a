import { randomUUID } from 'node:crypto';
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
import { sql } from 'kysely';
import { createApp } from '../../src/app';
import type { Db } from '../../src/db/database';
import { migrationsDir } from '../../src/db/migrations-dir';
import { createProductRepository } from '../../src/db/product-repository';
import { adminToken, buildProductBody, JWT_SECRET } from '../support/build-app';
import { openDb } from '../support/db';

const logger = createLogger('product-service-observability-test');
logger.silent = !process.env.LOG_LEVEL;

describe('product-service: /metrics and /health/ready', () => {
  let database: TestDatabase;
  let db: Db;
  let app: ReturnType<typeof createApp>;
  const metrics = createMetrics();

  beforeAll(async () => {
    database = await createTestDatabase({ migrationsDir: migrationsDir() });
    db = openDb(database.url);
    const probe = createOutboxProbe(async (query) => (await sql.raw(query).execute(db)).rows);
    app = createApp({
      products: createProductRepository(db),
      tokens: createTokenVerifier({ JWT_SECRET }),
      logger,
      metrics,
      health: {
        database: databaseCheck(() => sql`SELECT 1`.execute(db)),
        broker: async () => ({ status: 'up' }),
        outboxLag: outboxLagCheck(probe, 60),
      },
    });
  });
  afterEach(() => db.deleteFrom('outbox_events').execute());
  afterAll(async () => {
    await db.destroy();
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
    await db
      .insertInto('outbox_events')
      .values({
        id: randomUUID(),
        aggregate_type: 'stock_reservation',
        aggregate_id: '1',
        sequence: 1,
        type: 'StockReserved',
        exchange: 'inventory',
        routing_key: 'stock.reserved',
        payload: '{}',
        created_at: sql`now() - interval '2 minutes'`,
      })
      .execute();

    // Act
    const readyAfter = await request(app).get('/health/ready');

    // Assert
    expect(readyBefore.status).toBe(200);
    expect(readyAfter.status).toBe(503);
    expect(readyAfter.body.checks.outbox).toMatchObject({ status: 'down' });
    expect((await request(app).get('/health')).status).toBe(200);
  });
});
