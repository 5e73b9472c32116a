import request from 'supertest';
import { readOpenApiDocument } from '@shop/contracts';
import { createLogger, parseConfig } from '@shop/platform';
import { createApp } from '../../src/app';
import { configShape } from '../../src/config';

describe('API documentation on the gateway', () => {
  const app = createApp(parseConfig(configShape, { RATE_LIMIT_PER_MINUTE: '0' }), createLogger('test', 'error'));
  afterAll(() => app.closeProxies());

  it('/openapi.json serves the generated OpenAPI 3.1 document, contracts/openapi.json', async () => {
    const res = await request(app).get('/openapi.json');

    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body).toEqual(readOpenApiDocument());
  });

  it('/docs serves Swagger UI pointed at /openapi.json, without a token', async () => {
    const page = await request(app).get('/docs/');
    const init = await request(app).get('/docs/swagger-ui-init.js');

    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-ui');
    expect(init.text).toContain('/openapi.json');
  });
});
