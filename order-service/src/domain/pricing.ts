import Decimal from 'decimal.js';

export interface PricedLineInput {
  productId: number;
  productName: string;
  /** The product's price as a decimal string, e.g. "25.99". */
  unitPrice: string;
  quantity: number;
}

export interface PricedLine {
  productId: number;
  productName: string;
  productPrice: string;
  quantity: number;
  subtotal: string;
}

export interface PricedOrder {
  lines: PricedLine[];
  totalAmount: string;
}

/**
 * Prices an order with exact decimal arithmetic (never floats): subtotal = price × quantity,
 * total = sum of subtotals, every amount a string with two places ("205.48").
 */
export function priceOrder(lines: readonly PricedLineInput[]): PricedOrder {
  const priced = lines.map((line) => {
    const price = new Decimal(line.unitPrice);
    return {
      productId: line.productId,
      productName: line.productName,
      productPrice: price.toFixed(2),
      quantity: line.quantity,
      subtotal: price.times(line.quantity).toFixed(2),
    };
  });
  const total = priced.reduce((sum, line) => sum.plus(line.subtotal), new Decimal(0));
  return { lines: priced, totalAmount: total.toFixed(2) };
}

/** The largest amount a numeric(10,2) column holds. */
export const MAX_AMOUNT = '99999999.99';

/** True when the total (and so possibly a subtotal) does not fit the database's money columns. */
export function exceedsMaxAmount(order: PricedOrder): boolean {
  return new Decimal(order.totalAmount).greaterThan(MAX_AMOUNT);
}
