import request from 'supertest';
import type { Problem } from '@shop/contracts';
import { bearer, buildOrderBody, countRows, createOrderWorld, type OrderWorld } from '../support/order-world';

/** SPEC §4: `sub` is a user id that fits the int4 id column; anything else is 401, never a 500. */
describe('orders with a token whose subject is beyond the id column', () => {
  let world: OrderWorld;
  beforeAll(async () => {
    world = await createOrderWorld();
  });
  afterAll(() => world.teardown());

  const OUT_OF_RANGE = 2_147_483_648;

  test('when such a user lists their orders, it answers 401 unauthorized', async () => {
    // Arrange
    const auth = await bearer(OUT_OF_RANGE);

    // Act
    const response = await request(world.app).get('/api/v1/orders').set('Authorization', auth);

    // Assert
    expect(response.status).toBe(401);
    expect((response.body as Problem).code).toBe('unauthorized');
  });

  test('when such a user places an order, it answers 401 and writes nothing', async () => {
    // Arrange
    const auth = await bearer(OUT_OF_RANGE);
    const ordersBefore = await countRows(world.pool, 'orders');

    // Act
    const response = await request(world.app)
      .post('/api/v1/orders')
      .set('Authorization', auth)
      .send(buildOrderBody());

    // Assert
    expect(response.status).toBe(401);
    expect((response.body as Problem).code).toBe('unauthorized');
    expect(await countRows(world.pool, 'orders')).toBe(ordersBefore);
  });

  test('the largest id the column holds, 2147483647, is a user like any other', async () => {
    const auth = await bearer(OUT_OF_RANGE - 1);

    const response = await request(world.app).get('/api/v1/orders').set('Authorization', auth);

    expect(response.status).toBe(200);
  });
});
