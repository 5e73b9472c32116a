import { ORDER_STATUSES, type OrderStatus } from '@shop/contracts';
import { decideRelease, stockEffectOfStatusChange } from '../../src/domain/stock-reservation';

describe('what an order status change does to its reserved stock', () => {
  it.each(['pending', 'confirmed'] as OrderStatus[])(
    'given a %s order, when it is cancelled, then its stock is released',
    (from) => {
      expect(stockEffectOfStatusChange({ from_status: from, to_status: 'cancelled' })).toBe('release');
    },
  );

  it('given a shipped order, when it is cancelled, then nothing is released: the goods have left', () => {
    expect(stockEffectOfStatusChange({ from_status: 'shipped', to_status: 'cancelled' })).toBe('none');
  });

  it.each(ORDER_STATUSES.filter((to) => to !== 'cancelled'))(
    'given any order, when it moves to %s, then stock is left alone',
    (to) => {
      expect(stockEffectOfStatusChange({ from_status: 'pending', to_status: to })).toBe('none');
    },
  );
});

describe('deciding what a releasing cancel does to the reservation', () => {
  const items = [
    { product_id: 1, quantity: 2 },
    { product_id: 4, quantity: 1 },
  ];

  it('given no reservation yet (the cancel overtook its create), when deciding, then a tombstone is left', () => {
    expect(decideRelease(undefined)).toEqual({ kind: 'tombstone' });
  });

  it('given a reserved order, when deciding, then exactly its reserved items are released', () => {
    expect(decideRelease({ status: 'reserved', items })).toEqual({ kind: 'release', lines: items });
  });

  it.each(['released', 'rejected', 'cancelled_before_create'] as const)(
    'given a %s reservation, when deciding, then nothing is released',
    (status) => {
      expect(decideRelease({ status, items })).toEqual({ kind: 'none' });
    },
  );
});
