import { createServer, type AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { Client, Pool } from 'pg';
import { problemHandler, requestContext } from '../../src/http';
import { capturingLogger, createTestDatabase, eventually, terminateConnections, type TestDatabase } from '../../src/testing';

/** The shapes a lost or unreachable database takes by the time it reaches the error middleware. */
const prismaTerminated = Object.assign(new Error('\nInvalid `prisma.$queryRaw()` invocation:\n\n\nRaw query failed. Code: `57P01`.'), {
  name: 'PrismaClientKnownRequestError',
  code: 'P2010',
  meta: {
    driverAdapterError: {
      name: 'DriverAdapterError',
      cause: { originalCode: '57P01', originalMessage: 'terminating connection due to administrator command', kind: 'postgres', code: '57P01', message: 'terminating connection due to administrator command' },
    },
  },
});
const prismaUnreachable = Object.assign(new Error("\nInvalid `prisma.order.count()` invocation:\n\nCan't reach database server at 127.0.0.1:5999"), {
  name: 'PrismaClientKnownRequestError',
  code: 'P1001',
  meta: { driverAdapterError: { name: 'DriverAdapterError', cause: { kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 5999 } } },
});

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

  test.each([
    ['Prisma, a connection terminated under a query', prismaTerminated, 'terminating connection due to administrator command (57P01)'],
    ['Prisma, a server it cannot reach', prismaUnreachable, "Can't reach database server at 127.0.0.1:5999 (P1001)"],
  ])('%s: answers 503 database_unavailable', async (_case, error, cause) => {
    // Arrange
    const app = appFailingWith(() => Promise.reject(error));

    // Act
    const response = await request(app).get('/work');

    // Assert
    expect(response.status).toBe(503);
    expect(response.body.code).toBe('database_unavailable');
    expect(response.headers['retry-after']).toBeDefined();
    expect(lines[0]?.cause).toBe(cause);
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
