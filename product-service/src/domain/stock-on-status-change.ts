import type { OrderStatus } from '@shop/contracts';
import type { Reservation, StockLevel, StockLine } from './reserve-stock';

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

export type ReleaseDecision =
  /** The cancel overtook its create: leave a tombstone so the late create reserves nothing. */
  | { kind: 'tombstone' }
  /** Give these lines back and mark the reservation 'released', so a second cancel finds nothing. */
  | { kind: 'release'; lines: StockLine[] }
  /** Rejected, already released, or already tombstoned: there is no stock to give back. */
  | { kind: 'none' };

/** A releasing cancel against what the saga has recorded for the order (SPEC §6: released exactly once). */
export function decideRelease(reservation: Reservation | undefined): ReleaseDecision {
  if (!reservation) return { kind: 'tombstone' };
  return reservation.status === 'reserved' ? { kind: 'release', lines: reservation.items } : { kind: 'none' };
}

/**
 * Each released line's stock, given back, from the locked stock. Products cannot be deleted, so
 * every line is normally there; one that is not has no row to give stock back to.
 */
export function stockAfterRelease(
  lines: readonly StockLine[],
  stockById: ReadonlyMap<number, number>,
): StockLevel[] {
  return lines
    .filter((line) => stockById.has(line.product_id))
    .map((line) => ({ product_id: line.product_id, stock: stockById.get(line.product_id)! + line.quantity }));
}
