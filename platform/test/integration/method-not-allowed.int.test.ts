import express, { Router } from 'express';
import request from 'supertest';
import {
  AppError,
  methodNotAllowed,
  notFoundHandler,
  onlyMethods,
  problemHandler,
  requestContext,
} from '../../src/http';
import { createLogger } from '../../src/logger';

/** An app shaped like a service's: routes on the app, a mounted router with a guard, a read-only mount. */
function buildApp() {
  const logger = createLogger('test', 'error');
  const app = express();
  app.use(requestContext(logger));
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  const things = Router();
  things.get('/special', (_req, res) => {
    res.json({ special: true });
  });
  things.use((req, _res, next) =>
    req.headers.authorization === 'no' ? next(new AppError(401, 'unauthorized', 'no')) : next(),
  );
  things.get('/', (_req, res) => {
    res.json([]);
  });
  things.post('/', (_req, res) => {
    res.status(201).json({});
  });
  things.get('/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  things.patch('/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  things.patch('/:id/status', (req, res) => {
    res.json({ id: req.params.id });
  });
  app.use('/api/things', things);
  app.use('/files', onlyMethods('GET', 'HEAD'), (_req, res) => {
    res.type('text/plain').send('a file');
  });
  app.use(methodNotAllowed(app));
  app.use(notFoundHandler);
  app.use(problemHandler(logger));
  return app;
}

describe('a method a known path does not support', () => {
  const app = buildApp();

  it.each([
    ['DELETE', '/api/things/1', 'GET, HEAD, PATCH'],
    ['PUT', '/api/things', 'GET, HEAD, POST'],
    ['PUT', '/api/things/', 'GET, HEAD, POST'],
    ['GET', '/api/things/1/status', 'PATCH'],
    ['POST', '/health', 'GET, HEAD'],
    // Served by /special (GET) and by /:id (GET, PATCH): the Allow list is what the path really answers.
    ['DELETE', '/api/things/special', 'GET, HEAD, PATCH'],
  ])('%s %s answers 405 method_not_allowed with Allow: %s', async (method, path, allow) => {
    const res = await request(app)[method.toLowerCase() as 'get'](path);

    expect(res.status).toBe(405);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers.allow).toBe(allow);
    expect(res.body).toMatchObject({ status: 405, code: 'method_not_allowed', title: 'Method Not Allowed' });
  });

  it('a mount that is not a route answers 405 for what its guard refuses', async () => {
    const res = await request(app).post('/files/a.css');

    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(res.body.code).toBe('method_not_allowed');
    expect((await request(app).get('/files/a.css')).text).toBe('a file');
  });

  it('OPTIONS on a known path answers 200 with its Allow list', async () => {
    const res = await request(app).options('/health');

    expect(res.status).toBe(200);
    expect(res.headers.allow).toBe('GET, HEAD');
  });

  it('HEAD on a GET route is still served', async () => {
    expect((await request(app).head('/health')).status).toBe(200);
  });

  it('a method the path supports is still served', async () => {
    expect((await request(app).patch('/api/things/special')).body).toEqual({ id: 'special' });
  });

  it('a path nothing serves stays 404 not_found, whatever the method', async () => {
    for (const [method, path] of [
      ['delete', '/nowhere'],
      ['get', '/api/things/1/extra'],
      ['put', '/health/deep'],
    ] as const) {
      const res = await request(app)[method](path);

      expect(res.status).toBe(404);
      expect(res.body.code).toBe('not_found');
    }
  });

  it("a mounted router's own guard still runs before the 405", async () => {
    const res = await request(app).delete('/api/things/1').set('Authorization', 'no');

    expect(res.status).toBe(401);
  });
});
