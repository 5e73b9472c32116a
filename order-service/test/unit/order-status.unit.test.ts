import { ORDER_STATUSES, type OrderStatus } from '@shop/contracts';
import { canTransition, isCancellable } from '../../src/domain/order-status';

const VALID: ReadonlySet<string> = new Set([
  'pending->confirmed',
  'confirmed->shipped',
  'shipped->delivered',
  'pending->cancelled',
  'confirmed->cancelled',
  'shipped->cancelled',
]);

const everyPair: [OrderStatus, OrderStatus, boolean][] = ORDER_STATUSES.flatMap((from) =>
  ORDER_STATUSES.map((to): [OrderStatus, OrderStatus, boolean] => [from, to, VALID.has(`${from}->${to}`)]),
);

describe('the order status machine', () => {
  test("the contract's statuses are exactly the five of SPEC §4, so the table below covers every pair", () => {
    expect([...ORDER_STATUSES].sort()).toEqual(['cancelled', 'confirmed', 'delivered', 'pending', 'shipped']);
  });

  test.each(everyPair)('given an order %s, moving it to %s is allowed: %s', (from, to, allowed) => {
    // Act
    const result = canTransition(from, to);

    // Assert
    expect(result).toBe(allowed);
  });

  test.each([
    ['pending', true],
    ['confirmed', true],
    ['shipped', true],
    ['delivered', false],
    ['cancelled', false],
  ] as [OrderStatus, boolean][])('an order %s can be cancelled: %s', (status, expected) => {
    expect(isCancellable(status)).toBe(expected);
  });
});
