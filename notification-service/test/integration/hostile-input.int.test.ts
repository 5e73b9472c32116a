import request from 'supertest';
import { buildTestApp, tokenFor, type TestApp } from '../support/build-app';

/** SPEC §4: a wrong method on a known path is 405 with `Allow`, not 404. */
describe('client input the notification service refuses with a 4xx', () => {
  let t: TestApp;
  let user: string;
  beforeAll(async () => {
    t = await buildTestApp();
    user = `Bearer ${await tokenFor(42)}`;
  });
  afterAll(() => t?.close());

  it.each([
    ['POST', '/api/v1/notifications', 'GET, HEAD'],
    ['DELETE', '/api/v1/notifications', 'GET, HEAD'],
    ['PUT', '/health', 'GET, HEAD'],
  ])(
    'when %s is sent to %s, it answers 405 method_not_allowed with Allow: %s',
    async (method, path, allow) => {
      const verb = method.toLowerCase() as 'post' | 'delete' | 'put';
      const res = await request(t.app)[verb](path).set('Authorization', user);

      expect(res.status).toBe(405);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers.allow).toBe(allow);
      expect(res.body.code).toBe('method_not_allowed');
    },
  );

  it('when the query holds a bad percent-escape, listing answers a 4xx problem, not a 500', async () => {
    const res = await request(t.app)
      .get('/api/v1/notifications?order_id=%ff&type=%')
      .set('Authorization', user);

    expect(res.status).toBe(422);
    expect(res.body.code).toBe('validation_error');
  });
});
