import request from 'supertest';
import { QUEUES } from '@shop/contracts';
import { bearer, buildOrderBody, newUserId } from '../support/order-world';
import { unusedPort } from '../support/product-stub';
import { eventually } from '@shop/platform/testing';
import { createServiceWorld, probeQueue } from '../support/service-world';

describe('when the broker is away', () => {
  test('with no broker reachable at all, orders are still accepted, health is degraded, and events wait in the outbox', async () => {
    // Arrange
    const world = await createServiceWorld({
      AMQP_URL: `amqp://guest:guest@127.0.0.1:${await unusedPort()}`,
      BROKER_STARTUP_WAIT_MS: '200',
    });
    try {
      // Act
      const placed = await request(world.baseUrl)
        .post('/api/v1/orders')
        .set('Authorization', await bearer(newUserId()))
        .send(buildOrderBody());
      const health = await request(world.baseUrl).get('/health');

      // Assert
      expect(placed.status).toBe(201);
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({
        status: 'degraded',
        checks: { database: { status: 'up' }, broker: { status: 'down' } },
      });
      const { rows } = await world.pool.query(
        'SELECT type, published_at FROM outbox_events WHERE aggregate_id = $1',
        [String(placed.body.id)],
      );
      expect(rows).toEqual([{ type: 'OrderCreated', published_at: null }]);
    } finally {
      await world.teardown();
    }
  });

  test('when the broker closes every connection, orders are still accepted and their events arrive after reconnect', async () => {
    // Arrange
    const world = await createServiceWorld();
    const witness = await probeQueue(world.vhost.url, QUEUES.productOrders);
    try {
      await witness.close();
      await eventually(async () => {
        const response = await request(world.baseUrl).get('/health');
        expect(response.body.checks?.broker?.status).toBe('up');
      });

      // Act: the broker drops us, and orders keep coming meanwhile.
      await world.vhost.closeConnections();
      const auth = await bearer(newUserId());
      const placed = [];
      for (let i = 0; i < 5; i++) {
        placed.push(
          await request(world.baseUrl)
            .post('/api/v1/orders')
            .set('Authorization', auth)
            .send(buildOrderBody()),
        );
      }

      // Assert
      expect(placed.map((response) => response.status)).toEqual([201, 201, 201, 201, 201]);
      const ids = placed.map((response) => response.body.id as number);
      const reader = await probeQueue(world.vhost.url, QUEUES.productOrders);
      try {
        const arrived = await eventually(
          () => {
            const orderIds = reader
              .bodies()
              .filter((body) => body.type === 'OrderCreated')
              .map((body) => body.data.order_id as number);
            return ids.every((id) => orderIds.includes(id)) && orderIds;
          },
          { timeoutMs: 20_000 },
        );
        expect(arrived).toEqual(expect.arrayContaining(ids));
        // Committed one after the other, so published in that order (the relay follows outbox position).
        expect(arrived.filter((id) => ids.includes(id))).toEqual(ids);
      } finally {
        await reader.close();
      }
      await eventually(
        async () =>
          (await world.pool.query('SELECT count(*)::int AS n FROM outbox_events WHERE published_at IS NULL'))
            .rows[0].n === 0,
      );
    } finally {
      await witness.close();
      await world.teardown();
    }
  });
});
