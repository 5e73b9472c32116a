import request from 'supertest';
import {
  adminBearer,
  bearer,
  buildOrderBody,
  createOrderWorld,
  newUserId,
  type OrderWorld,
} from '../support/order-world';

/** SPEC §4: owners cancel only pending or confirmed orders; an admin may cancel a shipped one. */
describe('who may cancel an order, and from which status', () => {
  let world: OrderWorld;
  beforeAll(async () => {
    world = await createOrderWorld();
  });
  afterAll(() => world.teardown());

  const placeOrder = async (auth: string) =>
    request(world.app).post('/api/v1/orders').set('Authorization', auth).send(buildOrderBody());
  const changeStatus = (auth: string, id: number, status: string) =>
    request(world.app).patch(`/api/v1/orders/${id}/status`).set('Authorization', auth).send({ status });
  const moveTo = async (id: number, statuses: string[]) => {
    const admin = await adminBearer();
    for (const status of statuses) expect((await changeStatus(admin, id, status)).status).toBe(200);
  };
  const rowOf = async (id: number) =>
    (await world.pool.query('SELECT status, version FROM orders WHERE id = $1', [id])).rows[0];
  const statusEventsOf = async (id: number) =>
    (
      await world.pool.query(
        `SELECT payload->'data' AS data FROM outbox_events
          WHERE aggregate_id = $1 AND type = 'OrderStatusUpdated' ORDER BY sequence`,
        [String(id)],
      )
    ).rows.map((row: { data: { from_status: string; to_status: string } }) => row.data);

  test('when the owner cancels a shipped order, it answers 400 invalid_status_transition and nothing changes', async () => {
    // Arrange
    const owner = await bearer(newUserId());
    const created = await placeOrder(owner);
    await moveTo(created.body.id, ['confirmed', 'shipped']);
    const before = await rowOf(created.body.id);
    const eventsBefore = await statusEventsOf(created.body.id);

    // Act
    const response = await changeStatus(owner, created.body.id, 'cancelled');

    // Assert
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('invalid_status_transition');
    expect(await rowOf(created.body.id)).toEqual(before);
    expect(before.status).toBe('shipped');
    expect(await statusEventsOf(created.body.id)).toEqual(eventsBefore);
  });

  test('when the owner cancels a confirmed order, it is cancelled', async () => {
    const owner = await bearer(newUserId());
    const created = await placeOrder(owner);
    await moveTo(created.body.id, ['confirmed']);

    const response = await changeStatus(owner, created.body.id, 'cancelled');

    expect(response.status).toBe(200);
    expect(response.body.status).toBe('cancelled');
  });

  test('when an admin cancels a shipped order, it answers 200 and its OrderStatusUpdated says it was cancelled from shipped', async () => {
    // Arrange
    const created = await placeOrder(await bearer(newUserId()));
    await moveTo(created.body.id, ['confirmed', 'shipped']);

    // Act
    const response = await changeStatus(await adminBearer(), created.body.id, 'cancelled');

    // Assert: the product service reads from_status to give no stock back (the goods have left).
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('cancelled');
    expect((await statusEventsOf(created.body.id)).at(-1)).toMatchObject({
      from_status: 'shipped',
      to_status: 'cancelled',
    });
  });
});
