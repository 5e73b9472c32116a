import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { Router } from 'express';
import { closeServer } from '../../src/shutdown';
import { createServiceApp } from '../../src/http/service-app';
import { listen, portOf } from '../../src/http/listen';
import { createLogger } from '../../src/logger';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A promise and the function that settles it, so a test decides when a handler or a check may go on. */
function gate<T = void>() {
  let open!: (value: T) => void;
  const opened = new Promise<T>((resolve) => (open = resolve));
  return { open, opened };
}

function get(port: number, path: string, agent: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A service app as every service builds it, served by listen(), with a route that answers only
 * when the test lets it and a database check the test can hold.
 */
async function startDrainableService() {
  const slow = gate();
  const slowStarted = gate();
  const checkStarted = gate();
  const routes = Router();
  routes.get('/', async (_req, res) => {
    slowStarted.open();
    await slow.opened;
    res.json({ done: true });
  });
  routes.get('/fast', (_req, res) => {
    res.json({ done: true });
  });
  routes.get('/proxied', async (_req, res) => {
    slowStarted.open();
    await slow.opened;
    // What a proxy does when it copies its upstream's header.
    res.setHeader('Connection', 'keep-alive');
    res.json({ done: true });
  });
  // Hangs until the slow request may go on, as a database that stopped answering would.
  const heldCheck = async () => {
    checkStarted.open();
    await slow.opened;
    return { status: 'up' as const };
  };
  const app = createServiceApp({
    service: 'drain-test',
    logger: createLogger('drain-test', 'error'),
    checks: { database: heldCheck, outboxLag: heldCheck },
    routes: { '/slow': routes },
  });
  const server = await listen(app, 0, '127.0.0.1');
  return {
    server,
    port: portOf(server),
    slow,
    slowStarted: slowStarted.opened,
    checkStarted: checkStarted.opened,
  };
}

describe('draining an HTTP server on shutdown', () => {
  const agents: Agent[] = [];
  const keepAliveAgent = () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    return agent;
  };
  const services: Awaited<ReturnType<typeof startDrainableService>>[] = [];
  const startService = async () => {
    const service = await startDrainableService();
    services.push(service);
    return service;
  };
  afterEach(() => {
    agents.splice(0).forEach((agent) => agent.destroy());
    // A test that failed may have left its server listening and its handler waiting.
    for (const { server, slow } of services.splice(0)) {
      slow.open();
      server.closeAllConnections();
      if (server.listening) server.close();
    }
  });

  test('once the drain begins, /health and /health/ready in flight answer 503 at once, while a slow request in flight still finishes with 200', async () => {
    const service = await startService();
    const slow = get(service.port, '/slow', keepAliveAgent());
    const health = get(service.port, '/health', keepAliveAgent());
    const ready = get(service.port, '/health/ready', keepAliveAgent());
    await Promise.all([service.slowStarted, service.checkStarted]);

    const drained = closeServer(service.server);
    const answers = await Promise.all([health, ready]);
    service.slow.open();

    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.body)).toEqual({
        status: 'down',
        service: 'drain-test',
        checks: { shutdown: { status: 'down', detail: 'shutting down: finishing the requests in flight' } },
      });
    }
    expect((await slow).status).toBe(200);
    await drained;
  });

  test('a keep-alive socket busy when the drain begins is told Connection: close with its response, and the drain completes', async () => {
    const service = await startService();
    const agent = keepAliveAgent();
    expect((await get(service.port, '/slow/fast', agent)).headers.connection).toBe('keep-alive');
    const slow = get(service.port, '/slow', agent);
    await service.slowStarted;

    const drained = closeServer(service.server);
    service.slow.open();
    const answer = await slow;

    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    await drained;
  });

  test('during the drain a handler cannot set Connection back to keep-alive, as a proxy copying its upstream would', async () => {
    const service = await startService();
    const proxied = get(service.port, '/slow/proxied', keepAliveAgent());
    await service.slowStarted;

    const drained = closeServer(service.server);
    service.slow.open();

    expect((await proxied).headers.connection).toBe('close');
    await drained;
  });
});
