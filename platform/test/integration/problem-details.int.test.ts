import express from 'express';
import request from 'supertest';
import { z } from 'zod';
import { AppError, jsonBody, notFoundHandler, parseWith, problemHandler, requestContext } from '../../src/http';
import { createLogger } from '../../src/logger';

function buildApp() {
  const logger = createLogger('test', 'error');
  const app = express();
  app.use(requestContext(logger));
  app.use(jsonBody('1kb'));
  app.post('/things', (req, res) => {
    const body = parseWith(z.strictObject({ quantity: z.number().int().min(1) }), req.body);
    res.status(201).json(body);
  });
  app.get('/conflict', () => {
    throw new AppError(409, 'idempotency_request_in_flight', 'still working', { extra: { retry: true } });
  });
  app.get('/boom', () => {
    throw new Error('database password is hunter2');
  });
  app.use(notFoundHandler);
  app.use(problemHandler(logger));
  return app;
}

describe('problem+json errors', () => {
  const app = buildApp();

  it('a body that is not JSON answers 400 malformed_json as problem+json', async () => {
    const res = await request(app).post('/things').set('Content-Type', 'application/json').send('{"quantity":');

    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, code: 'malformed_json', title: 'Bad Request' });
  });

  it('a body over the limit answers 413 payload_too_large', async () => {
    const res = await request(app)
      .post('/things')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ quantity: 1, pad: 'x'.repeat(5_000) }));

    expect(res.status).toBe(413);
    expect(res.body.code).toBe('payload_too_large');
  });

  it('a wrong type and an unknown field answer 422 listing each path', async () => {
    const res = await request(app).post('/things').send({ quantity: 'two', colour: 'red' });

    expect(res.status).toBe(422);
    expect(res.body.code).toBe('validation_error');
    expect(res.body.errors.map((error: { path: string }) => error.path).sort()).toEqual(['colour', 'quantity']);
  });

  it('a body sent as text/plain answers 415', async () => {
    const res = await request(app).post('/things').set('Content-Type', 'text/plain').send('quantity=1');

    expect(res.status).toBe(415);
    expect(res.body.code).toBe('unsupported_media_type');
  });

  it('an AppError keeps its status, code and extra fields, and carries the request id', async () => {
    const res = await request(app).get('/conflict').set('X-Request-Id', 'req-123');

    expect(res.status).toBe(409);
    expect(res.headers['x-request-id']).toBe('req-123');
    expect(res.body).toMatchObject({ code: 'idempotency_request_in_flight', retry: true, request_id: 'req-123' });
  });

  it('an unexpected error answers 500 without leaking its message', async () => {
    const res = await request(app).get('/boom');

    expect(res.status).toBe(500);
    expect(res.body.code).toBe('internal_error');
    expect(JSON.stringify(res.body)).not.toContain('hunter2');
  });

  it('an unknown route answers 404 problem+json', async () => {
    const res = await request(app).get('/nowhere');

    expect(res.status).toBe(404);
    expect(res.body.code).toBe('not_found');
  });
});
