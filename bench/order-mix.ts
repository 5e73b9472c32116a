import type { BenchProduct } from './system';

export interface OrderLine {
  product_id: number;
  quantity: number;
}

/** An order body as a shopper sends it: 1–3 distinct products, 1–3 of each. */
export function randomOrder(products: readonly BenchProduct[]): OrderLine[] {
  const count = 1 + Math.floor(Math.random() * 3);
  const picked = new Set<number>();
  while (picked.size < count) picked.add(products[Math.floor(Math.random() * products.length)].id);
  return [...picked].map((productId) => ({
    product_id: productId,
    quantity: 1 + Math.floor(Math.random() * 3),
  }));
}

export const USERS = 200;
export const randomUser = () => 1 + Math.floor(Math.random() * USERS);
