import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import express from 'express';
import request from 'supertest';
import { jsonBody, notFoundHandler, problemHandler, requestContext } from '../../src/http';
import { capturingLogger } from '../../src/testing/capturing-logger';

/**
 * What express, body-parser and the router throw for a request they cannot decode carries its own
 * 4xx status; the problem handler keeps it (as problem+json with a fitting code) instead of
 * answering 500 and logging a client's mistake as our error.
 */
function buildApp() {
  const { logger, lines } = capturingLogger('warn');
  const app = express();
  app.use(requestContext(logger));
  app.get('/things/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  app.post('/things', ...jsonBody('1kb'), (req, res) => {
    res.status(201).json(req.body);
  });
  app.get('/search', (req, res) => {
    res.json({ q: decodeURIComponent(String(req.query.raw)) });
  });
  app.get('/range', () => {
    throw Object.assign(new Error('Range Not Satisfiable'), { status: 416, expose: true });
  });
  app.get('/library-bug', () => {
    throw Object.assign(new Error('stream encoding should not be set'), {
      status: 500,
      type: 'stream.encoding.set',
    });
  });
  app.use(notFoundHandler);
  app.use(problemHandler(logger));
  return { app, lines };
}

const expectProblem = (
  res: { status: number; headers: Record<string, string>; body: unknown },
  status: number,
  code: string,
) => {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({
    status,
    code,
    type: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
  });
};

/** Posts the bytes as they are (supertest would serialise a Buffer sent as JSON). */
async function postBytes(app: express.Express, bytes: Buffer | string, contentEncoding: string) {
  const server = app.listen(0);
  try {
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/things`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Encoding': contentEncoding },
      body: bytes,
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: Object.fromEntries(res.headers),
      body: JSON.parse(text) as unknown,
    };
  } finally {
    server.close();
  }
}

describe('requests the server cannot decode', () => {
  it('a bad percent-escape in a path parameter answers 400 bad_request', async () => {
    const { app } = buildApp();

    expectProblem(await request(app).get('/things/%ff'), 400, 'bad_request');
  });

  it('a gzip Content-Encoding over bytes that are not gzip answers 400 bad_request', async () => {
    const { app } = buildApp();

    const res = await postBytes(app, '{"not":"gzip"}', 'gzip');

    expectProblem(res, 400, 'bad_request');
  });

  it('a gzip body cut short answers 400 bad_request', async () => {
    const { app } = buildApp();

    const res = await postBytes(app, gzipSync('{"quantity": 1}').subarray(0, 15), 'gzip');

    expectProblem(res, 400, 'bad_request');
  });

  it('a well-formed gzip body is still read', async () => {
    const { app } = buildApp();

    const res = await postBytes(app, gzipSync('{"quantity": 1}'), 'gzip');

    expect(res.status).toBe(201);
    expect(res.body).toEqual({ quantity: 1 });
  });

  it('a Content-Encoding the server does not speak stays 415 unsupported_media_type', async () => {
    const { app } = buildApp();

    const res = await postBytes(app, '{}', 'compress');

    expectProblem(res, 415, 'unsupported_media_type');
  });

  it('a URIError from decoding client text answers 400 bad_request', async () => {
    const { app } = buildApp();

    expectProblem(await request(app).get('/search?raw=%25ff'), 400, 'bad_request');
  });

  it('any other 4xx a library attaches to its error keeps its status', async () => {
    const { app, lines } = buildApp();

    expectProblem(await request(app).get('/range'), 416, 'bad_request');
    expect(lines.filter((line) => line.level === 'error')).toEqual([]);
  });

  it('a 5xx a library attaches to its error is still our fault: 500 internal_error', async () => {
    const { app } = buildApp();

    expectProblem(await request(app).get('/library-bug'), 500, 'internal_error');
  });
});
