import { Agent, request, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { createLogger, parseConfig } from '@shop/platform';
import { configShape, createApp } from '../../src';
import { bearer, SECRET, startTestGateway, type TestGateway } from '../support/gateway';
import { bodyOf, nextChunk, startScriptedService, type ScriptedService } from '../support/scripted-service';
import { deadServiceUrl } from '../support/stub-service';

/** No rate limit gets in the way. */
const SETTINGS = {
  RATE_LIMIT_PER_MINUTE: '0',
  RATE_LIMIT_WRITES_PER_MINUTE: '0',
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: '0',
};

/**
 * A request through node:http rather than fetch, which refuses to send hop-by-hop headers and
 * hides the answer's; `chunks` are written one at a time by the test (`write`), then `end`.
 */
function open(gateway: TestGateway, options: { method?: string; path: string; headers?: OutgoingHttpHeaders; agent?: Agent }) {
  const { port } = new URL(gateway.url);
  const client = request({ host: '127.0.0.1', port, agent: options.agent ?? false, ...options });
  const answer = new Promise<IncomingMessage>((resolve, reject) => client.once('response', resolve).once('error', reject));
  return { client, answer };
}

describe('gateway: what a forwarded request and its answer carry', () => {
  let service: ScriptedService;
  let t: TestGateway;
  beforeAll(async () => {
    service = await startScriptedService();
    t = await startTestGateway({ ...SETTINGS, PRODUCT_SERVICE_URL: service.url });
  });
  afterAll(async () => {
    await t.close();
    await service.close();
  });

  it('the service gets the client’s headers and path, its own Host, and X-Forwarded-For/-Port/-Proto appended to the client’s, X-Forwarded-Host the client’s Host', async () => {
    // Arrange
    const arriving = service.next();

    // Act
    const { client, answer } = open(t, {
      path: '/api/v1/products/7?fields=name',
      headers: { host: 'shop.example:8443', 'x-forwarded-for': '203.0.113.9', 'x-forwarded-prefix': '/shop', 'x-custom': 'kept' },
    });
    client.end();
    const { req, res } = await arriving;
    res.end();
    await answer;

    // Assert
    expect(req.url).toBe('/api/v1/products/7?fields=name');
    expect(req.headers).toMatchObject({
      host: new URL(service.url).host,
      'x-custom': 'kept',
      'x-forwarded-prefix': '/shop',
      'x-forwarded-for': '203.0.113.9,127.0.0.1',
      'x-forwarded-host': 'shop.example:8443',
      'x-forwarded-port': '8443',
      'x-forwarded-proto': 'http',
    });
  });

  it('the hop-by-hop headers of a request stay at the gateway: the service sees its own keep-alive connection, no Keep-Alive, TE, Upgrade or Proxy-Connection', async () => {
    const arriving = service.next();

    const { client, answer } = open(t, {
      path: '/api/v1/products',
      headers: {
        connection: 'close',
        'keep-alive': 'timeout=30',
        te: 'trailers',
        upgrade: 'h2c',
        'proxy-connection': 'close',
      },
    });
    client.end();
    const { req, res } = await arriving;
    res.end();
    await answer;

    expect(req.headers.connection).toBe('keep-alive');
    for (const name of ['keep-alive', 'te', 'upgrade', 'proxy-connection']) expect(req.headers[name]).toBeUndefined();
  });

  it('the hop-by-hop headers of an answer stay at the gateway; its status, Content-Length and other headers reach the client, whose connection stays open', async () => {
    // Arrange: the service closes its own connection and announces its own keep-alive timeout.
    const agent = new Agent({ keepAlive: true });
    const arriving = service.next();

    // Act
    const { client, answer } = open(t, { path: '/api/v1/products/1', agent });
    client.end();
    const { res } = await arriving;
    res.writeHead(201, 'Made', { 'content-length': '5', 'keep-alive': 'timeout=1', connection: 'close', 'x-answer': 'yes' });
    res.end('hello');
    const received = await answer;
    const body = await bodyOf(received);

    // Assert
    expect(received.statusCode).toBe(201);
    expect(received.statusMessage).toBe('Made');
    expect(body.toString()).toBe('hello');
    expect(received.headers).toMatchObject({ 'content-length': '5', 'x-answer': 'yes', connection: 'keep-alive' });
    expect(received.headers['keep-alive']).not.toBe('timeout=1');
    expect(received.headers['transfer-encoding']).toBeUndefined();
    agent.destroy();
  });

  it('a request body reaches the service as the client sends it, and the answer reaches the client as the service writes it', async () => {
    // Arrange
    const arriving = service.next();
    const { client, answer } = open(t, {
      method: 'POST',
      path: '/api/v1/products',
      headers: { authorization: await bearer(1, ['admin']), 'content-type': 'text/plain' },
    });

    // Act + Assert: each part arrives before the next is sent, so neither side was buffered whole.
    client.write('first part, ');
    const { req, res } = await arriving;
    expect((await nextChunk(req)).toString()).toBe('first part, ');
    client.end('second part');
    expect((await bodyOf(req)).toString()).toBe('second part');
    expect(req.headers['transfer-encoding']).toBe('chunked');

    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first answer, ');
    const received = await answer;
    expect((await nextChunk(received)).toString()).toBe('first answer, ');
    res.end('second answer');
    expect((await bodyOf(received)).toString()).toBe('second answer');
  });

  it('a request with a Content-Length reaches the service with the same Content-Length and body', async () => {
    const body = JSON.stringify({ name: 'Lamp', description: 'é'.repeat(10_000) });
    const arriving = service.next();

    const response = fetch(`${t.url}/api/v1/products`, {
      method: 'POST',
      headers: { authorization: await bearer(1, ['admin']), 'content-type': 'application/json' },
      body,
    });
    const { req, res } = await arriving;
    const received = await bodyOf(req);
    res.end();
    await response;

    expect(req.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(req.headers['transfer-encoding']).toBeUndefined();
    expect(received.toString()).toBe(body);
  });

  it('a DELETE without a body reaches the service with Content-Length: 0', async () => {
    const arriving = service.next();

    const response = fetch(`${t.url}/api/v1/products/3`, { method: 'DELETE', headers: { authorization: await bearer(1, ['admin']) } });
    const { req, res } = await arriving;
    res.end();
    await response;

    expect(req.method).toBe('DELETE');
    expect(req.headers['content-length']).toBe('0');
  });

  it('an odd path reaches the service as http-proxy sent it: repeated slashes and backslashes before the query as one slash, no fragment', async () => {
    const arriving = service.next();

    const { client, answer } = open(t, { path: '/api/v1/products//7\\x?q=a//b#part' });
    client.end();
    const { req, res } = await arriving;
    res.end();
    await answer;

    expect(req.url).toBe('/api/v1/products/7/x?q=a//b');
  });

  it('when the client goes away before the answer, the request to the service is dropped with it', async () => {
    const arriving = service.next();
    const { client, answer } = open(t, { path: '/api/v1/products/9' });
    answer.catch(() => undefined);
    client.end();
    const { res } = await arriving;

    client.destroy();
    await new Promise((resolve) => res.once('close', resolve));

    expect(res.writableEnded).toBe(false);
  });

  it('when the service breaks its answer off midway, the client’s connection is closed rather than left waiting for the rest', async () => {
    const arriving = service.next();
    const { client, answer } = open(t, { path: '/api/v1/products/4' });
    client.end();
    const { res } = await arriving;

    res.writeHead(200, { 'content-length': '100' });
    res.write('twenty bytes of 100.');
    const received = await answer;
    await nextChunk(received);
    res.socket!.destroy();

    await expect(bodyOf(received)).rejects.toThrow();
  });
});

describe('gateway: what a client gets when forwarding fails', () => {
  let service: ScriptedService;
  let t: TestGateway;
  beforeAll(async () => {
    service = await startScriptedService();
    t = await startTestGateway({
      ...SETTINGS,
      PRODUCT_SERVICE_URL: service.url,
      ORDER_SERVICE_URL: await deadServiceUrl(),
      PROXY_TIMEOUT_MS: '300',
    });
  });
  afterAll(async () => {
    await t.close();
    await service.close();
  });

  it('when the service refuses the connection, the answer is 503 service_unavailable problem+json with Retry-After: 1', async () => {
    const response = await fetch(`${t.url}/api/v1/orders?offset=2`, { headers: { authorization: await bearer(42) } });

    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toEqual({
      type: 'https://shop.example/problems/service-unavailable',
      title: 'Service Unavailable',
      status: 503,
      detail: 'The order service is not reachable right now; try again shortly.',
      code: 'service_unavailable',
      instance: '/api/v1/orders?offset=2',
      request_id: response.headers.get('x-request-id'),
    });
  });

  it('when the service takes the request but does not answer within PROXY_TIMEOUT_MS, the answer is 504 service_timeout problem+json', async () => {
    const arriving = service.next();

    const response = await fetch(`${t.url}/api/v1/products/5`);
    const { res } = await arriving;
    res.destroy();

    expect(response.status).toBe(504);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toEqual({
      type: 'https://shop.example/problems/service-timeout',
      title: 'Gateway Timeout',
      status: 504,
      detail: 'The product service did not answer within 300 ms.',
      code: 'service_timeout',
      instance: '/api/v1/products/5',
      request_id: response.headers.get('x-request-id'),
    });
  });
});

describe('gateway: the instances it forwards to', () => {
  it('an https:// instance is refused when the gateway starts, with the URL named (it could never be forwarded to)', () => {
    const config = parseConfig(configShape, {
      JWT_SECRET: SECRET,
      LOG_LEVEL: 'error',
      PRODUCT_SERVICE_URL: 'https://127.0.0.1:8443',
    });

    expect(() => createApp(config, createLogger('gateway', 'error'))).toThrow(
      'the gateway forwards to http:// instances only: https://127.0.0.1:8443',
    );
  });
});
