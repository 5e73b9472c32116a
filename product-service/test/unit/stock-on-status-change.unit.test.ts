import { ORDER_STATUSES, type OrderStatus } from '@shop/contracts';
import { stockEffectOfStatusChange } from '../../src/domain/stock-on-status-change';

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
