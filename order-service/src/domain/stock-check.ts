export interface Shortage {
  product_id: number;
  requested: number;
  available: number;
}

/**
 * The advisory stock check at placement (SPEC §4): a line asking for more than the product's
 * current stock is a shortage. The product service's decrement stays authoritative (§6).
 */
export function findShortages(
  lines: readonly { productId: number; quantity: number }[],
  stockOf: ReadonlyMap<number, number>,
): Shortage[] {
  return lines
    .filter((line) => line.quantity > (stockOf.get(line.productId) ?? 0))
    .map((line) => ({
      product_id: line.productId,
      requested: line.quantity,
      available: stockOf.get(line.productId) ?? 0,
    }));
}

/** The ids asked for that the catalogue did not return, in the order they were asked for. */
export function findMissingProducts(requested: readonly number[], found: ReadonlySet<number>): number[] {
  return requested.filter((id) => !found.has(id));
}
