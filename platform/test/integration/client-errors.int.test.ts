import { connect } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { listen, portOf } from '../../src/http';

/**
 * Requests Node's HTTP parser refuses never reach express; Node's own answer is a bare status line
 * (431 with an empty body) or nothing. The listener answers them as problem+json like everything else.
 */
interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Writes bytes on a fresh connection and reads everything until the server closes it. */
function exchange(port: number, bytes: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...headerLines] = head.split('\r\n');
      const headers = Object.fromEntries(
        headerLines.map((line) => [
          line.slice(0, line.indexOf(':')).toLowerCase(),
          line.slice(line.indexOf(':') + 1).trim(),
        ]),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
    socket.write(bytes);
  });
}

const expectProblem = (answer: RawAnswer, status: number, code: string) => {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toBe('application/problem+json');
  expect(answer.headers.connection).toBe('close');
  expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
  expect(JSON.parse(answer.body)).toMatchObject({
    status,
    code,
    type: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
  });
};

describe('requests the HTTP parser refuses', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    const app = express();
    app.get('/', (_req, res) => {
      res.json({ ok: true });
    });
    server = await listen(app, 0, '127.0.0.1');
    port = portOf(server);
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('a header section over the limit answers 431 headers_too_large as problem+json', async () => {
    const answer = await exchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(20_000)}\r\n\r\n`);

    expectProblem(answer, 431, 'headers_too_large');
  });

  it('a HEAD request whose header section is over the limit gets the 431 without a body, as HEAD must', async () => {
    const answer = await exchange(port, `HEAD / HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(20_000)}\r\n\r\n`);

    expect(answer.status).toBe(431);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.body).toBe('');
  });

  it('a malformed request line answers 400 bad_request as problem+json', async () => {
    expectProblem(await exchange(port, 'GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n'), 400, 'bad_request');
  });

  it('a method HTTP does not know answers 400 bad_request as problem+json', async () => {
    expectProblem(await exchange(port, 'BREW / HTTP/1.1\r\nHost: x\r\n\r\n'), 400, 'bad_request');
  });

  it('bytes that are not HTTP at all answer 400 bad_request as problem+json', async () => {
    expectProblem(await exchange(port, '\u0000\u0001\u0002 hello\r\n\r\n'), 400, 'bad_request');
  });

  it('after such a request the server still answers the next client', async () => {
    await exchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(20_000)}\r\n\r\n`);

    const answer = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');

    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ ok: true });
  });
});
