import request from 'supertest';
import type { Problem } from '@shop/contracts';
import { buildTestApp, tokenFor, type TestApp } from '../support/build-app';

/** SPEC §4: `sub` is a user id that fits the int4 id column; anything else is 401, never a 500. */
describe('notifications with a token whose subject is beyond the id column', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  it('when such a user lists their notifications, it answers 401 unauthorized', async () => {
    // Arrange
    const token = await tokenFor(2_147_483_648);

    // Act
    const response = await request(t.app)
      .get('/api/v1/notifications')
      .set('Authorization', `Bearer ${token}`);

    // Assert
    expect(response.status).toBe(401);
    expect((response.body as Problem).code).toBe('unauthorized');
  });

  it('the largest id the column holds, 2147483647, lists (an empty list)', async () => {
    const token = await tokenFor(2_147_483_647);

    const response = await request(t.app)
      .get('/api/v1/notifications')
      .set('Authorization', `Bearer ${token}`);

    expect(response.status).toBe(200);
  });
});
