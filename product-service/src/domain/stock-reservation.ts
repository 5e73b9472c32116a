import type { OrderStatus } from '@shop/contracts';

/**
 * The stock reservation rule (SPEC §6), with no I/O: an order's lines against the stock the
 * caller read. All or nothing — if any product is short (or unknown, which counts as 0 available)
 * nothing is reserved and every shortage is reported; otherwise the lines are taken from stock.
 */
export interface StockLine {
  product_id: number;
  quantity: number;
}

export interface Shortage {
  product_id: number;
  requested: number;
  available: number;
}

/**
 * What the saga has recorded for an order: 'reserved' | 'released' | 'rejected', or the tombstone
 * 'cancelled_before_create' left by a cancel that arrived before its create.
 */
export type ReservationStatus = 'reserved' | 'released' | 'rejected' | 'cancelled_before_create';

export interface Reservation {
  status: ReservationStatus;
  items: StockLine[];
}

export type ReservationDecision =
  | { kind: 'reserve'; lines: StockLine[] }
  | { kind: 'reject'; reason: 'insufficient_stock'; shortages: Shortage[] };

/** Sums repeated products and orders the lines by product id, the order rows are locked in. */
export function consolidateLines(items: readonly StockLine[]): StockLine[] {
  const totals = new Map<number, number>();
  for (const item of items) totals.set(item.product_id, (totals.get(item.product_id) ?? 0) + item.quantity);
  return [...totals].sort(([a], [b]) => a - b).map(([product_id, quantity]) => ({ product_id, quantity }));
}

export function decideReservation(
  items: readonly StockLine[],
  stockById: ReadonlyMap<number, number>,
): ReservationDecision {
  const lines = consolidateLines(items);
  const available = (line: StockLine) => stockById.get(line.product_id) ?? 0;
  const shortages = lines
    .map((line) => ({ product_id: line.product_id, requested: line.quantity, available: available(line) }))
    .filter((line) => line.requested > line.available);
  if (shortages.length) return { kind: 'reject', reason: 'insufficient_stock', shortages };
  return { kind: 'reserve', lines };
}

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
