import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { deadLetterQueueOf, QUEUES } from '@shop/contracts';
import {
  buildStockReservationFailed,
  collectEscapedErrors,
  createTcpProxy,
  eventually,
  terminateConnections,
  type TcpProxy,
} from '@shop/platform/testing';
import { bearer, buildOrderBody, newUserId } from '../support/order-world';
import { createServiceWorld, probeQueue, publishEvent, type ServiceWorld } from '../support/service-world';

/**
 * The order service as main.ts runs it, while its database goes away (issue 9 §2): connections
 * terminated in rounds under load (a restart or failover), and the database unreachable for a
 * while (a proxy in front of Postgres, cut and restored). The process must never exit, a
 * request answers 2xx or 503 database_unavailable with Retry-After (never 500), and everything
 * works again once the database is back — without a restart.
 */
describe('when the database goes away under the order service', () => {
  const escaped = collectEscapedErrors().errors;

  interface Answer {
    what: string;
    status: number;
    code?: string;
    retryAfter?: string;
  }
  const answerOf = (what: string, response: request.Response): Answer => ({
    what,
    status: response.status,
    code: response.body?.code,
    retryAfter: response.headers['retry-after'],
  });
  /** Anything but a success or an honest "database unavailable, retry later". */
  const unacceptable = (answers: Answer[]) =>
    answers.filter(
      (answer) =>
        !(answer.status >= 200 && answer.status < 300) &&
        !(answer.status === 503 && answer.code === 'database_unavailable' && Number(answer.retryAfter) >= 1),
    );

  test('when its connections are terminated in rounds during a load of requests, every answer is 2xx or 503 database_unavailable, and it works afterwards', async () => {
    // Arrange
    const world = await createServiceWorld();
    const witness = await probeQueue(world.vhost.url, QUEUES.productOrders);
    const answers: Answer[] = [];
    const placed: number[] = [];
    let loading = true;
    try {
      await world.service.consuming(10_000);
      /** One client: place an order (half of them with an Idempotency-Key), read it, list, cancel it. */
      const client = async () => {
        const auth = await bearer(newUserId());
        for (let i = 0; loading; i++) {
          const post = request(world.baseUrl).post('/api/v1/orders').set('Authorization', auth);
          if (i % 2 === 0) post.set('Idempotency-Key', randomUUID());
          const created = await post.send(buildOrderBody());
          answers.push(answerOf('POST /orders', created));
          if (created.status !== 201) continue;
          placed.push(created.body.id as number);
          const path = `/api/v1/orders/${created.body.id}`;
          answers.push(
            answerOf('GET /orders/{id}', await request(world.baseUrl).get(path).set('Authorization', auth)),
          );
          answers.push(
            answerOf(
              'GET /orders',
              await request(world.baseUrl).get('/api/v1/orders').set('Authorization', auth),
            ),
          );
          const cancel = await request(world.baseUrl)
            .patch(`${path}/status`)
            .set('Authorization', auth)
            .send({ status: 'cancelled' });
          answers.push(answerOf('PATCH /orders/{id}/status', cancel));
        }
      };

      // Act: six rounds, each once the service has answered a few more requests since the last.
      const clients = Array.from({ length: 4 }, () => client());
      for (let round = 0; round < 6; round++) {
        const before = answers.length;
        await eventually(() => answers.length >= before + 8, { timeoutMs: 15_000 });
        await terminateConnections(world.database.url);
      }
      loading = false;
      await Promise.all(clients);

      // Assert: during the rounds
      expect(unacceptable(answers)).toEqual([]);
      expect(escaped).toEqual([]);
      // … and afterwards: it takes orders, reads them, reports healthy, and publishes every placed order.
      const auth = await bearer(newUserId());
      const after = await eventually(async () => {
        const response = await request(world.baseUrl)
          .post('/api/v1/orders')
          .set('Authorization', auth)
          .send(buildOrderBody());
        return response.status !== 503 && response;
      });
      expect(after.status).toBe(201);
      placed.push(after.body.id as number);
      const read = await request(world.baseUrl)
        .get(`/api/v1/orders/${after.body.id}`)
        .set('Authorization', auth);
      expect(read.status).toBe(200);
      const health = await eventually(async () => {
        const response = await request(world.baseUrl).get('/health');
        return response.status === 200 && response;
      });
      expect(health.body.checks.database).toEqual({ status: 'up' });
      const published = await eventually(
        () => {
          const ids = new Set(
            witness
              .bodies()
              .filter((body) => body.type === 'OrderCreated')
              .map((body) => body.data.order_id as number),
          );
          return placed.every((id) => ids.has(id)) && ids;
        },
        { timeoutMs: 20_000 },
      );
      expect(placed.filter((id) => !published.has(id))).toEqual([]);
    } finally {
      loading = false;
      await witness.close();
      await world.teardown();
    }
  });

  describe('when the database is unreachable for a while', () => {
    let proxy: TcpProxy;
    let world: ServiceWorld;
    beforeEach(async () => {
      proxy = await createTcpProxy('127.0.0.1', 5432);
      world = await createServiceWorld((database) => ({ DATABASE_URL: proxy.url(database.url) }));
      await world.service.consuming(10_000);
    });
    afterEach(async () => {
      await proxy.restore().catch(() => undefined);
      await world.teardown();
      await proxy.close();
    });

    const eventsFailed = async () => {
      const metrics = await request(world.baseUrl).get('/metrics');
      const line = String(metrics.text)
        .split('\n')
        .find((row) => row.startsWith('events_failed_total{type="StockReservationFailed"}'));
      return line ? Number(line.split(' ').pop()) : 0;
    };

    test('requests answer 503 database_unavailable and /health is down; once it is back, requests succeed and the consumer and relay catch up with nothing lost', async () => {
      // Arrange: three orders placed while all is well.
      const auth = await bearer(newUserId());
      const orders: number[] = [];
      for (let i = 0; i < 3; i++) {
        const created = await request(world.baseUrl)
          .post('/api/v1/orders')
          .set('Authorization', auth)
          .send(buildOrderBody());
        expect(created.status).toBe(201);
        orders.push(created.body.id as number);
      }
      const witness = await probeQueue(world.vhost.url, QUEUES.productOrders);
      const deadLetters = await probeQueue(world.vhost.url, deadLetterQueueOf(QUEUES.orderInventory.name));
      try {
        // Act: the database becomes unreachable; the product service reports a shortage for each order meanwhile.
        await proxy.cut();
        const placeWhileAway = await request(world.baseUrl)
          .post('/api/v1/orders')
          .set('Authorization', auth)
          .send(buildOrderBody());
        const readWhileAway = await request(world.baseUrl)
          .get(`/api/v1/orders/${orders[0]}`)
          .set('Authorization', auth);
        const healthWhileAway = await request(world.baseUrl).get('/health');
        for (const orderId of orders)
          await publishEvent(
            world.vhost.url,
            buildStockReservationFailed({
              order_id: orderId,
              shortages: [{ product_id: 1, requested: 2, available: 0 }],
            }),
          );
        // Each event fails more often than the consumer's attempts allow (or, wrongly, is dead-lettered).
        await eventually(
          async () => (await eventsFailed()) >= 6 * orders.length || deadLetters.messages.length > 0,
          {
            timeoutMs: 20_000,
          },
        );
        const deadLetteredWhileAway = deadLetters.messages.length;
        await proxy.restore();

        // Assert: while away
        expect([answerOf('POST', placeWhileAway), answerOf('GET', readWhileAway)]).toEqual([
          {
            what: 'POST',
            status: 503,
            code: 'database_unavailable',
            retryAfter: expect.stringMatching(/^\d+$/),
          },
          {
            what: 'GET',
            status: 503,
            code: 'database_unavailable',
            retryAfter: expect.stringMatching(/^\d+$/),
          },
        ]);
        expect(healthWhileAway.status).toBe(503);
        expect(healthWhileAway.body.checks.database.status).toBe('down');
        expect(deadLetteredWhileAway).toBe(0);
        // … and once it is back, by itself
        const placed = await eventually(async () => {
          const response = await request(world.baseUrl)
            .post('/api/v1/orders')
            .set('Authorization', auth)
            .send(buildOrderBody());
          return response.status !== 503 && response;
        });
        expect(placed.status).toBe(201);
        const health = await eventually(async () => {
          const response = await request(world.baseUrl).get('/health');
          return response.status === 200 && response;
        });
        expect(health.body.checks.database).toEqual({ status: 'up' });
        const cancelled = await eventually(
          () => {
            const ids = witness
              .bodies()
              .filter((body) => body.type === 'OrderStatusUpdated' && body.data.to_status === 'cancelled')
              .map((body) => body.data.order_id as number);
            return orders.every((id) => ids.includes(id)) && ids;
          },
          { timeoutMs: 20_000 },
        );
        expect(new Set(cancelled)).toEqual(new Set(orders));
        const { rows } = await world.pool.query(
          'SELECT id, status, cancel_reason FROM orders WHERE id = ANY($1) ORDER BY id',
          [orders],
        );
        expect(rows).toEqual(
          orders.map((id) => ({ id, status: 'cancelled', cancel_reason: 'insufficient_stock' })),
        );
        expect(deadLetters.messages).toEqual([]);
        expect(escaped).toEqual([]);
      } finally {
        await witness.close();
        await deadLetters.close();
      }
    });
  });
});
