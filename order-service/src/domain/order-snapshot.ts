import type { Order } from '@shop/contracts';
import type { StatusChange } from './order-permissions';
import { INITIAL_STATUS } from './order-status';
import type { PricedOrder } from './pricing';

/*
 * The contract's `Order` as a placement or a status change leaves it, built from what was decided
 * and what the database handed out beforehand — so nothing has to be read back after the write,
 * and the answer, the stored rows and the event all carry the same values.
 */

/** What the database hands out before a new order is written: its id, its items' ids, its clock. */
export interface ReservedIds {
  orderId: number;
  /** One per priced line, ascending: readers list an order's items by id, so line order is id order. */
  itemIds: readonly number[];
  /** The database's clock when the ids were reserved: the order's created_at and updated_at. */
  at: Date;
}

/** A new order (version 0, INITIAL_STATUS) from its priced lines and the reserved ids. */
export function newOrder(userId: number, priced: PricedOrder, reserved: ReservedIds): Order {
  if (reserved.itemIds.length !== priced.lines.length) {
    throw new RangeError(`${reserved.itemIds.length} item ids reserved for ${priced.lines.length} lines`);
  }
  const at = reserved.at.toISOString();
  return {
    id: reserved.orderId,
    user_id: userId,
    status: INITIAL_STATUS,
    total_amount: priced.totalAmount,
    cancel_reason: null,
    items: priced.lines.map((line, index) => ({
      id: reserved.itemIds[index]!,
      product_id: line.productId,
      product_name: line.productName,
      product_price: line.productPrice,
      quantity: line.quantity,
      subtotal: line.subtotal,
    })),
    created_at: at,
    updated_at: at,
  };
}

/** `order` after an allowed status change made at `at` (the database's clock, taken under the order's lock). */
export function changedOrder(order: Order, change: StatusChange, at: Date): Order {
  return { ...order, status: change.to, cancel_reason: change.cancelReason, updated_at: at.toISOString() };
}
