import { sendRaw, type RawRequest, type RawResponse } from './support/raw-http';
import { startSystem, type RunningSystem } from './support/system';

/**
 * Issue 9 §4's list of inputs that answered 500 (or an empty 431, or a 404 for a wrong method),
 * sent by a client through the gateway: each is now a 4xx problem+json with SPEC §4's code.
 */
describe('hostile client input through the gateway', () => {
  let system: RunningSystem;
  let user: string;
  let admin: string;
  beforeAll(async () => {
    system = await startSystem();
    user = `Bearer ${await system.token(42)}`;
    admin = `Bearer ${await system.token(1, { admin: true })}`;
  });
  afterAll(() => system?.stop());

  const send = (request: Partial<RawRequest> & { path: string }) =>
    sendRaw(system.url, { method: 'GET', headers: {}, ...request });
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const problemOf = (res: RawResponse) => {
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    return JSON.parse(res.body) as { status: number; code: string; errors?: { path: string }[] };
  };

  it('a bad percent-escape in a product id, without a token, answers 400 bad_request', async () => {
    const res = await send({ path: '/api/v1/products/%ff' });

    expect(res.status).toBe(400);
    expect(problemOf(res).code).toBe('bad_request');
  });

  it('a bad percent-escape in an order id answers 400 bad_request', async () => {
    const res = await send({ path: '/api/v1/orders/%ff', headers: { Authorization: user } });

    expect(res.status).toBe(400);
    expect(problemOf(res).code).toBe('bad_request');
  });

  it('a body that claims gzip but is not answers 400 bad_request', async () => {
    const res = await send({
      method: 'POST',
      path: '/api/v1/orders',
      headers: { Authorization: user, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      body: json({ items: [{ product_id: 1, quantity: 1 }] }),
    });

    expect(res.status).toBe(400);
    expect(problemOf(res).code).toBe('bad_request');
  });

  it('a NUL in a new product name answers 422 validation_error at name', async () => {
    const res = await send({
      method: 'POST',
      path: '/api/v1/products',
      headers: { Authorization: admin, 'Content-Type': 'application/json' },
      body: json({ name: 'Desk\u0000Lamp', price: '19.99' }),
    });

    expect(res.status).toBe(422);
    expect(problemOf(res)).toMatchObject({ code: 'validation_error', errors: [{ path: 'name' }] });
  });

  it('an unpaired surrogate in a cancel reason answers 422 validation_error at reason', async () => {
    const placed = await send({
      method: 'POST',
      path: '/api/v1/orders',
      headers: { Authorization: user, 'Content-Type': 'application/json' },
      body: json({ items: [{ product_id: 1, quantity: 1 }] }),
    });
    const { id } = JSON.parse(placed.body) as { id: number };

    const res = await send({
      method: 'PATCH',
      path: `/api/v1/orders/${id}/status`,
      headers: { Authorization: user, 'Content-Type': 'application/json' },
      body: json({ status: 'cancelled', reason: 'oops \ud800' }),
    });

    expect(res.status).toBe(422);
    expect(problemOf(res)).toMatchObject({ code: 'validation_error', errors: [{ path: 'reason' }] });
  });

  it('a method a service path does not serve answers 405 with Allow, from the service behind the gateway', async () => {
    const res = await send({
      method: 'DELETE',
      path: '/api/v1/products/1',
      headers: { Authorization: admin },
    });

    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, PATCH');
    expect(problemOf(res).code).toBe('method_not_allowed');
  });

  it("a method the gateway's own /health does not serve answers 405 with Allow", async () => {
    const res = await send({ method: 'POST', path: '/health' });

    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(problemOf(res).code).toBe('method_not_allowed');
  });

  it('a header section over the limit answers 431 headers_too_large as problem+json', async () => {
    const res = await send({ path: '/api/v1/products', headers: { 'X-Padding': 'p'.repeat(20_000) } });

    expect(res.status).toBe(431);
    expect(problemOf(res)).toMatchObject({ status: 431, code: 'headers_too_large' });
  });
});
