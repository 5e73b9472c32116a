import type { OrderStatus } from '@shop/contracts';

/** What an order's status change does to the stock reserved for it. */
export type StockEffect = 'release' | 'none';

/** The statuses an order's goods are still in the warehouse in: cancelling from these gives stock back. */
const NOT_YET_SHIPPED: readonly OrderStatus[] = ['pending', 'confirmed'];

/**
 * SPEC §4/§6, with no I/O: a cancel releases the order's reservation — unless the order had shipped.
 * Then the goods have left the warehouse, so nothing comes back (returns are a separate flow) and the
 * reservation simply stays consumed. Every other change leaves stock alone.
 *
 * Only a releasing cancel may leave the cancel-before-create tombstone: a shipped order's cancel cannot
 * overtake its create (shipping came after the create, in sequence order), and if it ever did, the late
 * create reserving its stock is right, since the goods are gone either way.
 */
export function stockEffectOfStatusChange(change: {
  from_status: OrderStatus;
  to_status: OrderStatus;
}): StockEffect {
  return change.to_status === 'cancelled' && NOT_YET_SHIPPED.includes(change.from_status)
    ? 'release'
    : 'none';
}
