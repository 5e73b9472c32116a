/**
 * The stock reservation rule (SPEC §6), with no I/O: an order's lines against the stock the
 * caller has locked. All or nothing — if any product is short (or unknown, which counts as
 * 0 available) nothing is reserved and every shortage is reported; otherwise the decision says
 * what each product's stock becomes, and that is what the caller writes.
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

/** A product's stock after a saga step: the value the step writes back to the locked row. */
export interface StockLevel {
  product_id: number;
  stock: number;
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
  | { kind: 'reserve'; lines: StockLine[]; stock: StockLevel[] }
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
  return {
    kind: 'reserve',
    lines,
    stock: lines.map((line) => ({ product_id: line.product_id, stock: available(line) - line.quantity })),
  };
}
