import request from 'supertest';
import { startTestGateway, tokenFor, type TestGateway } from '../support/gateway';

/**
 * SPEC §4: a wrong method on a known path answers 405 with `Allow`. The gateway's own paths answer
 * it themselves; a proxied path's method is the service's business, so the request is forwarded.
 */
describe('a method the gateway path does not support', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({
      RATE_LIMIT_PER_MINUTE: '0',
      RATE_LIMIT_WRITES_PER_MINUTE: '0',
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '0',
    });
  });
  afterAll(() => t?.close());

  it.each([
    ['POST', '/health'],
    ['DELETE', '/openapi.json'],
    ['POST', '/docs'],
    ['PUT', '/docs/swagger-ui-init.js'],
  ])('%s %s answers 405 method_not_allowed with Allow: GET, HEAD', async (method, path) => {
    const res = await request(t.url)[method.toLowerCase() as 'post' | 'delete' | 'put'](path);

    expect(res.status).toBe(405);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(res.body).toMatchObject({ status: 405, code: 'method_not_allowed' });
  });

  it('Swagger UI is still served to a GET', async () => {
    const res = await request(t.url).get('/docs/');

    expect(res.status).toBe(200);
    expect(res.text).toContain('swagger-ui');
  });

  it('a method on a proxied path is forwarded for the service to judge', async () => {
    const res = await request(t.url)
      .delete('/api/v1/products/1')
      .set('Authorization', `Bearer ${await tokenFor(1, ['admin'])}`);

    expect(res.status).toBe(200);
    expect(t.products.received.at(-1)).toMatchObject({ method: 'DELETE', url: '/api/v1/products/1' });
  });
});
