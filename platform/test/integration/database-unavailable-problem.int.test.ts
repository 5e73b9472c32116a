import { createServer, type AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { sql } from 'kysely';
import { Client, Pool } from 'pg';
import { createDatabase, inTransaction } from '../../src/database';
import { problemHandler, requestContext } from '../../src/http';
import { createPgPool } from '../../src/pg';
import { logger as quiet } from '../messaging/support/fixtures';
import { capturingLogger, createTestDatabase, eventually, terminateConnections, type TestDatabase } from '../../src/testing';

describe('when a request loses its database', () => {
  let db: TestDatabase;
  const { logger, lines } = capturingLogger('warn');

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());
  beforeEach(() => {
    lines.length = 0;
  });

  function appFailingWith(fail: () => Promise<unknown>) {
    const app = express();
    app.use(requestContext(logger));
    app.get('/work', async () => {
      await fail();
    });
    app.use(problemHandler(logger));
    return app;
  }

  test('a connection terminated mid-request answers 503 database_unavailable with Retry-After, and one warning says why', async () => {
    // Arrange
    const client = new Client({ connectionString: db.url });
    client.on('error', () => undefined);
    await client.connect();
    const app = appFailingWith(async () => {
      const sleeping = client.query("SELECT pg_sleep(30), 'doomed request'");
      // The statement may not have reached the server yet: terminate once it is there.
      await eventually(async () => (await terminateConnections(db.url, { queryContains: 'doomed request' })) > 0, {
        intervalMs: 5,
      });
      await sleeping;
    });

    // Act
    const response = await request(app).get('/work');
    await client.end().catch(() => undefined);

    // Assert
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(response.body).toMatchObject({ status: 503, code: 'database_unavailable', title: 'Service Unavailable' });
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        code: 'database_unavailable',
        cause: 'terminating connection due to administrator command (57P01)',
      }),
    ]);
  });

  test('a database that refuses connections answers 503 database_unavailable', async () => {
    // Arrange: nothing listens on the port any more.
    const url = new URL(db.url);
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    url.port = String(closedPort);
    const pool = new Pool({ connectionString: url.toString() });
    const app = appFailingWith(() => pool.query('SELECT 1'));

    // Act
    const response = await request(app).get('/work');
    await pool.end();

    // Assert
    expect(response.status).toBe(503);
    expect(response.body.code).toBe('database_unavailable');
    expect(String(lines[0]?.cause)).toMatch(/ECONNREFUSED/);
  });

  test('a Kysely transaction whose connection is terminated answers 503 database_unavailable', async () => {
    // Arrange: the path every service takes, createDatabase and inTransaction on a createPgPool pool.
    const database = createDatabase(createPgPool(db.url, { max: 1, logger: quiet }));
    const app = appFailingWith(() =>
      inTransaction(database, async (tx) => {
        await sql`SELECT 'doomed transaction'`.execute(tx);
        await terminateConnections(db.url, { queryContains: 'doomed transaction' });
        await sql`SELECT 1`.execute(tx);
      }),
    );

    // Act
    const response = await request(app).get('/work');
    await database.destroy();

    // Assert
    expect(response.status).toBe(503);
    expect(response.body.code).toBe('database_unavailable');
    expect(response.headers['retry-after']).toBeDefined();
    expect(lines).toEqual([
      expect.objectContaining({ code: 'database_unavailable', cause: expect.stringMatching(/57P01|Connection terminated|not queryable/) }),
    ]);
  });

  test('an error in the statement itself stays a 500', async () => {
    // Arrange
    const pool = new Pool({ connectionString: db.url });
    const app = appFailingWith(() => pool.query('SELECT * FROM no_such_table'));

    // Act
    const response = await request(app).get('/work');
    await pool.end();

    // Assert
    expect(response.status).toBe(500);
    expect(response.body.code).toBe('internal_error');
  });
});
