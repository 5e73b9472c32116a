import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { createClient } from 'redis';
import type { Health } from '@shop/contracts';
import { capturingLogger, createTcpProxy, eventually, type TcpProxy } from '@shop/platform/testing';
import { createFreezableTcpHop, type FreezableTcpHop } from '../support/freezable-tcp-hop';
import { bearer, startTestGateway, type TestGateway } from '../support/gateway';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** This file's keys, apart from every other run's and from a running Shop's; deleted afterwards. */
const PREFIX = `shop-test:gateway-rate-limit-redis:${randomUUID()}:`;

const LIMITS = {
  RATE_LIMIT_PER_MINUTE: '4',
  RATE_LIMIT_WRITES_PER_MINUTE: '2',
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: '2',
  TRUST_PROXY_HOPS: '1', // so each test can be its own client address through X-Forwarded-For
  HEALTH_CACHE_MS: '0',
};
const sharedThrough = (url: string, prefix = PREFIX) => ({
  ...LIMITS,
  REDIS_URL: url,
  RATE_LIMIT_REDIS_PREFIX: prefix,
});

const ordersOf = (t: TestGateway, authorization: string) =>
  fetch(`${t.url}/api/v1/orders`, { headers: { authorization } });
const statusesOf = async (calls: (() => Promise<Response>)[]) => {
  const statuses: number[] = [];
  for (const call of calls) statuses.push((await call()).status);
  return statuses;
};
const times = (count: number, call: () => Promise<Response>) => Array.from({ length: count }, () => call);
/**
 * /health has its own per-address budget (2 a minute here): each look comes from an address of its
 * own, so a test that polls /health while Redis comes back never spends that budget and reads a 429.
 */
let healthLooks = 0;
const healthOf = async (t: TestGateway) => {
  healthLooks += 1;
  const from = `10.99.${Math.floor(healthLooks / 250) % 250}.${(healthLooks % 250) + 1}`;
  const response = await fetch(`${t.url}/health`, { headers: { 'x-forwarded-for': from } });
  expect(response.status).toBe(200);
  return (await response.json()) as Health;
};
const warnings = (lines: Record<string, unknown>[]) =>
  lines.filter(
    (line) => line.level === 'warn' && /rate limits: Redis is unreachable/.test(String(line.message)),
  );

/** A port nothing listens on: Redis "down" without stopping the machine's Redis. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function expectRateLimited(response: Response): Promise<void> {
  expect(response.status).toBe(429);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(await response.json()).toMatchObject({
    type: expect.any(String),
    title: expect.any(String),
    status: 429,
    detail: expect.any(String),
    code: 'rate_limited',
  });
}

afterAll(async () => {
  const redis = createClient({ url: REDIS_URL });
  await redis.connect();
  for await (const keys of redis.scanIterator({ MATCH: `${PREFIX}*`, COUNT: 1000 }))
    if (keys.length) await redis.del(keys);
  redis.destroy();
});

describe('gateway: rate limits shared through Redis (REDIS_URL)', () => {
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    [a, b] = await Promise.all([
      startTestGateway(sharedThrough(REDIS_URL)),
      startTestGateway(sharedThrough(REDIS_URL)),
    ]);
  });
  afterAll(() => Promise.all([a.close(), b.close()]));

  it('two gateway instances on one Redis together refuse the request past the limit, which each alone would have allowed', async () => {
    const authorization = await bearer(501);
    const allowed = await statusesOf([
      ...times(2, () => ordersOf(a, authorization)),
      ...times(2, () => ordersOf(b, authorization)),
    ]);
    const proxiedBefore = a.orders.received.length;

    const fifth = await ordersOf(a, authorization);

    expect(allowed).toEqual([200, 200, 200, 200]);
    await expectRateLimited(fifth);
    expect(a.orders.received.length).toBe(proxiedBefore);
  });

  it('the writes limit is shared too: the third write, on either instance, is refused', async () => {
    const authorization = await bearer(502);
    const post = (t: TestGateway) => () =>
      fetch(`${t.url}/api/v1/orders`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: '{}',
      });

    const writes = await statusesOf([post(a), post(b), post(b)]);

    expect(writes).toEqual([200, 200, 429]);
  });

  it("an address's /api budget and its /health budget stay apart in Redis, as in memory", async () => {
    const from = { headers: { 'x-forwarded-for': '203.0.113.50' } };
    const products = (t: TestGateway) => () => fetch(`${t.url}/api/v1/products`, from);
    const api = await statusesOf([products(a), products(a)]);

    const health = await fetch(`${b.url}/health`, from);
    const thirdApiCall = await products(b)();

    expect(api).toEqual([200, 200]);
    expect(health.status).toBe(200);
    expect(thirdApiCall.status).toBe(429);
  });

  it("another Shop system on the same Redis, under its own RATE_LIMIT_REDIS_PREFIX, does not share this one's counts", async () => {
    const other = await startTestGateway(sharedThrough(REDIS_URL, `${PREFIX}other-system:`));
    try {
      const authorization = await bearer(503);
      await statusesOf(times(4, () => ordersOf(a, authorization)));

      const onOther = await ordersOf(other, authorization);
      const onThis = await ordersOf(a, authorization);

      expect(onOther.status).toBe(200);
      expect(onThis.status).toBe(429);
    } finally {
      await other.close();
    }
  });

  it('/health reports the rate limits up while Redis answers', async () => {
    const health = await healthOf(a);

    expect(health.status).toBe('ok');
    expect(health.checks['rate-limits']).toEqual({ status: 'up' });
  });
});

describe('gateway: rate limits without REDIS_URL', () => {
  it('each instance counts alone in memory, as before: two instances each allow the full limit', async () => {
    const [a, b] = await Promise.all([startTestGateway(LIMITS), startTestGateway(LIMITS)]);
    try {
      const authorization = await bearer(601);

      const statuses = await statusesOf([
        ...times(4, () => ordersOf(a, authorization)),
        ...times(4, () => ordersOf(b, authorization)),
      ]);
      const fifthOnA = await ordersOf(a, authorization);

      expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200]);
      await expectRateLimited(fifthOnA);
      expect(Object.keys((await healthOf(a)).checks)).not.toContain('rate-limits');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('gateway: when Redis is away, the gateway serves anyway and each instance counts in memory', () => {
  const opened: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((resource) => resource.close()));
  });
  const started = async (
    env: Record<string, string>,
    logger?: ReturnType<typeof capturingLogger>['logger'],
  ) => {
    const t = await startTestGateway(env, { logger });
    opened.push(t);
    return t;
  };

  it('when Redis cannot be reached at start-up, the gateway starts, limits in memory, warns once and reports /health degraded', async () => {
    const { logger, lines } = capturingLogger('info');
    const t = await started(sharedThrough(`redis://127.0.0.1:${await closedPort()}`), logger);
    const authorization = await bearer(701);

    const statuses = await statusesOf(times(4, () => ordersOf(t, authorization)));
    const fifth = await ordersOf(t, authorization);
    const response = await fetch(`${t.url}/health`);

    expect(statuses).toEqual([200, 200, 200, 200]);
    await expectRateLimited(fifth);
    expect(response.status).toBe(200);
    const health = (await response.json()) as Health;
    expect(health.status).toBe('degraded');
    expect(health.checks['rate-limits']).toEqual({
      status: 'degraded',
      detail: expect.stringContaining('ECONNREFUSED'),
    });
    expect(warnings(lines)).toHaveLength(1);
    expect(warnings(lines)[0]).toMatchObject({
      redis: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      err: 'ECONNREFUSED',
    });
  });

  it('when Redis is reached only after start-up, the limits are shared once it answers', async () => {
    const proxy: TcpProxy = await createTcpProxy('127.0.0.1', Number(new URL(REDIS_URL).port || 6379));
    opened.push(proxy);
    await proxy.cut();
    const env = sharedThrough(proxy.url(REDIS_URL), `${PREFIX}late:`);
    const [a, b] = [await started(env), await started(env)];
    const authorization = await bearer(702);

    await proxy.restore();
    // A client that never connected is replaced after three unanswered PINGs, a second apart, and
    // each /health asks the services too: on a loaded machine that takes longer than the default wait.
    await eventually(
      async () => {
        for (const t of [a, b]) expect((await healthOf(t)).checks['rate-limits']).toEqual({ status: 'up' });
      },
      { timeoutMs: 30_000 },
    );
    const allowed = await statusesOf([
      ...times(2, () => ordersOf(a, authorization)),
      ...times(2, () => ordersOf(b, authorization)),
    ]);
    const fifth = await ordersOf(a, authorization);

    expect(allowed).toEqual([200, 200, 200, 200]);
    await expectRateLimited(fifth);
  });

  it('when Redis is lost while the gateway runs, requests are still answered and limited per instance, with one warning; once it is back, limits are shared again', async () => {
    const proxy: TcpProxy = await createTcpProxy('127.0.0.1', Number(new URL(REDIS_URL).port || 6379));
    opened.push(proxy);
    const { logger, lines } = capturingLogger('info');
    const env = sharedThrough(proxy.url(REDIS_URL), `${PREFIX}outage:`);
    const [a, b] = [await started(env, logger), await started(env)];
    const during = await bearer(703);
    const after = await bearer(704);

    await proxy.cut();
    await eventually(async () => expect((await healthOf(a)).status).toBe('degraded'));
    const onA = await statusesOf(times(5, () => ordersOf(a, during)));
    const onB = await ordersOf(b, during);
    await proxy.restore();
    // A client that never connected is replaced after three unanswered PINGs, a second apart, and
    // each /health asks the services too: on a loaded machine that takes longer than the default wait.
    await eventually(
      async () => {
        for (const t of [a, b]) expect((await healthOf(t)).checks['rate-limits']).toEqual({ status: 'up' });
      },
      { timeoutMs: 30_000 },
    );
    const shared = await statusesOf([
      ...times(2, () => ordersOf(a, after)),
      ...times(2, () => ordersOf(b, after)),
      () => ordersOf(a, after),
    ]);

    expect(onA).toEqual([200, 200, 200, 200, 429]);
    expect(onB.status).toBe(200);
    expect(warnings(lines)).toHaveLength(1);
    expect(lines.some((line) => /Redis is reachable again/.test(String(line.message)))).toBe(true);
    expect(shared).toEqual([200, 200, 200, 200, 429]);
  });

  it('when Redis stops answering, requests are still answered, counted in memory after a bounded wait', async () => {
    const hop: FreezableTcpHop = await createFreezableTcpHop(
      '127.0.0.1',
      Number(new URL(REDIS_URL).port || 6379),
    );
    opened.push(hop);
    const { logger, lines } = capturingLogger('info');
    const t = await started(sharedThrough(hop.url(REDIS_URL), `${PREFIX}hung:`), logger);
    const authorization = await bearer(705);
    expect((await ordersOf(t, authorization)).status).toBe(200);

    hop.freeze();
    const statuses = await statusesOf(times(5, () => ordersOf(t, authorization)));

    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    expect(warnings(lines)).toEqual([expect.objectContaining({ err: 'no answer within 500 ms' })]);
    expect((await healthOf(t)).checks['rate-limits']).toMatchObject({ status: 'degraded' });
  });

  const hungRedis = async () => {
    const hop: FreezableTcpHop = await createFreezableTcpHop(
      '127.0.0.1',
      Number(new URL(REDIS_URL).port || 6379),
    );
    opened.push(hop);
    return hop;
  };
  const countsIn = (commands: string[]) => commands.filter((name) => /^EVAL/i.test(name));

  it('when Redis stops answering, only the first count waits for it: the requests after it are counted in memory without sending Redis a count', async () => {
    const hop = await hungRedis();
    const t = await started(sharedThrough(hop.url(REDIS_URL), `${PREFIX}hung-once:`));
    const authorization = await bearer(706);
    expect((await ordersOf(t, authorization)).status).toBe(200);

    hop.freeze();
    const statuses = await statusesOf(times(5, () => ordersOf(t, authorization)));

    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    // At most the first request's count (none if the probe noticed first): one per request without the fix.
    expect(countsIn(hop.sentWhileFrozen()).length).toBeLessThanOrEqual(1);
  });

  it('while Redis stays hung, the gateway drops the connection that does not answer, so commands do not pile up waiting on it; once Redis answers, counts are shared again', async () => {
    const hop = await hungRedis();
    const prefix = `${PREFIX}hung-long:`;
    const t = await started(sharedThrough(hop.url(REDIS_URL), prefix));
    const direct = await started(sharedThrough(REDIS_URL, prefix));
    const during = await bearer(707);
    const after = await bearer(708);
    expect((await ordersOf(t, during)).status).toBe(200);

    hop.freeze();
    for (let request = 0; request < 20; request++) await ordersOf(t, during);
    const waitingAfterTwentyRequests = hop.waitingForAnswers();
    await eventually(() => expect(hop.droppedByClientWhileFrozen()).toBeGreaterThan(0));
    hop.thaw();
    await eventually(async () => expect((await healthOf(t)).checks['rate-limits']).toEqual({ status: 'up' }));
    const shared = await statusesOf([
      ...times(2, () => ordersOf(t, after)),
      ...times(2, () => ordersOf(direct, after)),
      () => ordersOf(t, after),
    ]);

    expect(waitingAfterTwentyRequests).toBeLessThanOrEqual(4); // one count and the probes' PINGs
    expect(shared).toEqual([200, 200, 200, 200, 429]);
  });
});
