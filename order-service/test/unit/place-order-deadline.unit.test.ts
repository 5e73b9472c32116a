import type { Product } from '@shop/contracts';
import { AppError } from '@shop/platform';
import type { ClaimResult, IdempotencyClaim } from '../../src/db/idempotency-repository';
import { placeOrder, type PlaceOrderDeps } from '../../src/use-cases/place-order';
import { SEED_PRODUCTS } from '../support/product-stub';

const DEADLINE_MS = 10_000;

/**
 * placeOrder against fakes with a hand-moved clock: how the request deadline is spent. (The real
 * database and product service are the integration tests' job; this is only the time budget.)
 */
function buildDeps(steps: { claimTakesMs?: number; productsTakeMs?: number } = {}) {
  let clock = 1_000;
  const calls = {
    productTimeouts: [] as (number | undefined)[],
    writes: 0,
    released: [] as IdempotencyClaim[],
  };
  const deps: PlaceOrderDeps = {
    now: () => clock,
    idempotency: {
      requestDeadlineMs: DEADLINE_MS,
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
    writer: {
      async reserve() {
        calls.writes++;
        return { id: 1, itemIds: [1], createdAt: new Date('2025-01-01T00:00:00Z') };
      },
      async insert() {
        calls.writes++;
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
    await placeOrder(deps, command('key-1'));

    // Assert
    expect(calls.productTimeouts).toEqual([1_000]);
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
    expect(calls.writes).toBe(0);
    expect(calls.released).toEqual([{ userId: 7, key: 'key-2', token: 'token-1' }]);
  });

  test('when the claim itself took the whole deadline, the product service is not asked, the key is given back, and it answers 503 database_unavailable', async () => {
    const { deps, calls } = buildDeps({ claimTakesMs: DEADLINE_MS });

    const error = await failureOf(placeOrder(deps, command('key-3')));

    expect(error.status).toBe(503);
    expect(error.code).toBe('database_unavailable');
    expect(error.options.headers).toEqual({ 'Retry-After': '2' });
    expect(calls.productTimeouts).toEqual([]);
    expect(calls.writes).toBe(0);
    expect(calls.released).toHaveLength(1);
  });
});
