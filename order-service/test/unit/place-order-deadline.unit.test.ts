import type { Product } from '@shop/contracts';
import { AppError } from '@shop/platform';
import {
  createIdempotencyRepository,
  type ClaimResult,
  type IdempotencyClaim,
} from '../../src/db/idempotency-repository';
import { placeOrder, type PlaceOrderDeps } from '../../src/use-cases/place-order';
import { SEED_PRODUCTS } from '../support/product-stub';
import { scriptedDatabase, shapeOf } from '../support/scripted-database';

const DEADLINE_MS = 10_000;

/**
 * placeOrder against fakes with a hand-moved clock: how the request deadline is spent. (The real
 * database and product service are the integration tests' job; this is only the time budget.)
 */
function buildDeps(steps: { claimTakesMs?: number; productsTakeMs?: number; claimLost?: boolean } = {}) {
  let clock = 1_000;
  // The database answers as Postgres would: the reserved ids and its clock, and the claim's
  // completion returns its row while the claim is still this request's.
  const { db, statements } = scriptedDatabase((sql) => {
    if (sql.includes("nextval('orders_id_seq')")) {
      return { rows: [{ order_id: 1, item_ids: [1], at: new Date('2025-01-01T00:00:00Z') }] };
    }
    if (sql.includes('update "idempotency_keys"')) return { rows: steps.claimLost ? [] : [{ order_id: 1 }] };
    return undefined;
  });
  const calls = {
    productTimeouts: [] as (number | undefined)[],
    /** Every statement sent to the database, one per round trip (the claim's are faked apart, below). */
    statements,
    released: [] as IdempotencyClaim[],
  };
  const deps: PlaceOrderDeps = {
    now: () => clock,
    db,
    idempotency: {
      // The completion is the real statement: whether it finds the claim is the scripted answer's.
      ...createIdempotencyRepository(db, DEADLINE_MS),
      async claim(): Promise<ClaimResult> {
        clock += steps.claimTakesMs ?? 5;
        return { kind: 'claimed', token: 'token-1' };
      },
      async release(claim: IdempotencyClaim) {
        calls.released.push(claim);
      },
    },
    catalogue: {
      async getProducts(ids: readonly number[], options?: { timeoutMs?: number }): Promise<Product[]> {
        calls.productTimeouts.push(options?.timeoutMs);
        clock += steps.productsTakeMs ?? 20;
        return SEED_PRODUCTS.filter((product) => ids.includes(product.id));
      },
    },
  };
  return { deps, calls };
}

const command = (idempotencyKey?: string) => ({
  actor: { userId: 7, isAdmin: false },
  items: [{ product_id: 1, quantity: 1 }],
  idempotencyKey,
  context: { correlationId: 'corr-1' },
});

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as AppError,
  );

describe('placing an order within its deadline', () => {
  test('the product call gets only what is left of the deadline after the claim', async () => {
    // Arrange: the claim took 9 s of the 10 s.
    const { deps, calls } = buildDeps({ claimTakesMs: 9_000 });

    // Act
    const placed = await placeOrder(deps, command('key-1'));

    // Assert
    expect(calls.productTimeouts).toEqual([1_000]);
    expect(placed).toMatchObject({ replayed: false, status: 201, order: { id: 1 } });
  });

  test('without an Idempotency-Key the product call is bounded by the deadline too', async () => {
    const { deps, calls } = buildDeps();

    await placeOrder(deps, command());

    expect(calls.productTimeouts).toEqual([DEADLINE_MS]);
  });

  test('when the product service answers only at the deadline, nothing is written, the key is given back, and it answers 504', async () => {
    const { deps, calls } = buildDeps({ productsTakeMs: DEADLINE_MS });

    const error = await failureOf(placeOrder(deps, command('key-2')));

    expect(error).toBeInstanceOf(AppError);
    expect(error.status).toBe(504);
    expect(error.code).toBe('product_service_timeout');
    expect(calls.statements).toEqual([]);
    expect(calls.released).toEqual([{ userId: 7, key: 'key-2', token: 'token-1' }]);
  });

  test('when the claim itself took the whole deadline, the product service is not asked, the key is given back, and it answers 503 database_unavailable', async () => {
    const { deps, calls } = buildDeps({ claimTakesMs: DEADLINE_MS });

    const error = await failureOf(placeOrder(deps, command('key-3')));

    expect(error.status).toBe(503);
    expect(error.code).toBe('database_unavailable');
    expect(error.options.headers).toEqual({ 'Retry-After': '2' });
    expect(calls.productTimeouts).toEqual([]);
    expect(calls.statements).toEqual([]);
    expect(calls.released).toHaveLength(1);
  });
});

const RESERVE_IDS = expect.stringContaining("nextval('orders_id_seq')");
const ORDER_WRITES =
  'writeAll: insert into "orders" + insert into "order_items" + insert into "outbox_events" + insert into "scheduled_events"';

describe('placing an order is written in one statement', () => {
  test('without an Idempotency-Key: the ids reserved, then order, items and OrderCreated in one statement and no transaction — two round trips', async () => {
    const { deps, calls } = buildDeps();

    const placed = await placeOrder(deps, command());

    expect(calls.statements.map(shapeOf)).toEqual([RESERVE_IDS, ORDER_WRITES]);
    expect(placed).toMatchObject({
      order: { id: 1, items: [{ id: 1, product_id: 1 }], created_at: '2025-01-01T00:00:00.000Z' },
    });
  });

  test('with an Idempotency-Key: the ids reserved, then the same statement with the claim completed, between one BEGIN and its COMMIT', async () => {
    const { deps, calls } = buildDeps();

    await placeOrder(deps, command('key-4'));

    expect(calls.statements.map(shapeOf)).toEqual([
      RESERVE_IDS,
      'BEGIN',
      `${ORDER_WRITES} + update "idempotency_keys"`,
      'COMMIT',
    ]);
    expect(calls.released).toEqual([]);
  });

  test('when the claim turns out to be taken over, the transaction rolls back, nothing commits, the key is given back, and it answers 409', async () => {
    const { deps, calls } = buildDeps({ claimLost: true });

    const error = await failureOf(placeOrder(deps, command('key-5')));

    expect(error.status).toBe(409);
    expect(error.code).toBe('idempotency_request_in_flight');
    expect(calls.statements.map(shapeOf)).toEqual([
      RESERVE_IDS,
      'BEGIN',
      `${ORDER_WRITES} + update "idempotency_keys"`,
      'ROLLBACK',
    ]);
    expect(calls.released).toEqual([{ userId: 7, key: 'key-5', token: 'token-1' }]);
  });
});
