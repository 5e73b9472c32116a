import { buildOrderCreated, eventually } from '@shop/platform/testing';
import {
  createProductWithStock,
  createSagaWorld,
  inventoryFor,
  stockOf,
  type SagaWorld,
} from '../support/saga-world';

/**
 * DATABASE_POOL_SIZE is the product service's whole Postgres budget: HTTP, the order-events
 * consumer and the outbox relay (its LISTEN included) share the one pool. A pool smaller than the
 * consumer's prefetch is allowed (config.ts): work waits its turn for a connection.
 */
let world: SagaWorld;
beforeAll(async () => {
  world = await createSagaWorld({ DATABASE_POOL_SIZE: '2' });
});
afterAll(() => world?.teardown());

it('with a pool of 2, below the consumer’s prefetch of 10, every order is reserved and answered while HTTP reads go on, on no more than 2 connections', async () => {
  // Arrange
  const product = await createProductWithStock(world.db, 100);
  const orders = Array.from({ length: 30 }, () =>
    buildOrderCreated({ items: [{ product_id: product, quantity: 1 }] }),
  );
  const read = () => fetch(`http://127.0.0.1:${world.service.port}/api/v1/products/${product}`);

  // Act
  const [responses] = await Promise.all([
    Promise.all(Array.from({ length: 20 }, read)),
    Promise.all(orders.map((order) => world.publish(order))),
  ]);
  await eventually(() => orders.every((order) => inventoryFor(world, order.data.order_id).length > 0), {
    description: 'every order answered on inventory',
  });

  // Assert
  expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
  expect(
    orders.flatMap((order) => inventoryFor(world, order.data.order_id).map((event) => event.type)),
  ).toEqual(Array(30).fill('StockReserved'));
  expect(await stockOf(world.db, product)).toBe(70);
  // Idle connections are kept for 10 minutes, so whatever the pool opened during the work is still counted.
  expect(await world.serviceConnections()).toBeLessThanOrEqual(2);
});
