import { Agent, request } from 'node:http';
import express from 'express';
import { listen, parseConfig, portOf } from '@shop/platform';
import { configShape, start } from '../../src';

/**
 * The gateway drains on SIGTERM as every service does (closeServer): its own /health turns 503 at
 * once — even a request already waiting on the services' answers — so nothing routes to it.
 */
describe('gateway shutdown', () => {
  const cleanups: (() => unknown)[] = [];
  const afterCleanup = (cleanup: () => unknown) => cleanups.push(cleanup);
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  test('once the drain begins, a /health in flight answers 503 at once, without waiting for the services', async () => {
    // Arrange: services whose /health answers only when the test lets them.
    let answerHealth!: () => void;
    const healthHeld = new Promise<void>((resolve) => (answerHealth = resolve));
    let asked!: () => void;
    const healthAsked = new Promise<void>((resolve) => (asked = resolve));
    const stub = express();
    stub.get('/health', async (_req, res) => {
      asked();
      await healthHeld;
      res.json({ status: 'ok', service: 'stub', checks: {} });
    });
    const upstream = await listen(stub, 0, '127.0.0.1');
    const url = `http://127.0.0.1:${portOf(upstream)}`;
    const gateway = await start(
      parseConfig(configShape, {
        PORT: '0',
        METRICS_PORT: '0',
        LOG_LEVEL: 'error',
        JWT_SECRET: 'gateway-shutdown-secret-0123456789',
        // Long enough that an answer before it can only be the drain's.
        HEALTH_TIMEOUT_MS: '3000',
        PRODUCT_SERVICE_URL: url,
        ORDER_SERVICE_URL: url,
        NOTIFICATION_SERVICE_URL: url,
      }),
    );
    const agent = new Agent({ keepAlive: true });
    afterCleanup(() => {
      answerHealth();
      agent.destroy();
      upstream.closeAllConnections();
      upstream.close();
      return gateway.close();
    });
    const health = new Promise<{ status: number; body: string }>((resolve, reject) => {
      request({ host: '127.0.0.1', port: gateway.port, path: '/health', agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
        .on('error', reject)
        .end();
    });
    await healthAsked;

    // Act
    const closed = gateway.close();
    const answer = await health;
    answerHealth();
    await closed;

    // Assert
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body)).toEqual({
      status: 'down',
      service: 'gateway',
      checks: { shutdown: { status: 'down', detail: 'shutting down: finishing the requests in flight' } },
    });
  });
});
