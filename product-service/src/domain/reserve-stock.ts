/**
 * The stock reservation rule (SPEC §6), with no I/O: an order's lines against the stock the
 * caller has locked. All or nothing — if any product is short (or unknown, which counts as
 * 0 available) nothing is reserved and every shortage is reported.
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

export type ReservationDecision =
  | { kind: 'reserve'; lines: StockLine[] }
  | { kind: 'reject'; reason: 'insufficient_stock'; shortages: Shortage[] };

/** Sums repeated products and orders the lines by product id, the order rows are locked in. */
export function consolidateLines(items: readonly StockLine[]): StockLine[] {
  const totals = new Map<number, number>();
  for (const item of items) totals.set(item.product_id, (totals.get(item.product_id) ?? 0) + item.quantity);
  return [...totals]
    .sort(([a], [b]) => a - b)
    .map(([product_id, quantity]) => ({ product_id, quantity }));
}

export function decideReservation(items: readonly StockLine[], stockById: ReadonlyMap<number, number>): ReservationDecision {
  const lines = consolidateLines(items);
  const shortages = lines
    .map((line) => ({ product_id: line.product_id, requested: line.quantity, available: stockById.get(line.product_id) ?? 0 }))
    .filter((line) => line.requested > line.available);
  return shortages.length ? { kind: 'reject', reason: 'insufficient_stock', shortages } : { kind: 'reserve', lines };
}
