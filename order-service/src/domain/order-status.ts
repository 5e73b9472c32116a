import type { OrderStatus } from '@shop/contracts';

/**
 * The order lifecycle (SPEC §4): pending → confirmed → shipped → delivered, and any of the first
 * three → cancelled. Nothing leaves cancelled or delivered; a change to the same status is invalid.
 */
const NEXT: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ['confirmed', 'cancelled'],
  confirmed: ['shipped', 'cancelled'],
  shipped: ['delivered', 'cancelled'],
  delivered: [],
  cancelled: [],
};

/** Where every order starts, at version 0 (its OrderCreated's sequence). */
export const INITIAL_STATUS: OrderStatus = 'pending';

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return NEXT[from].includes(to);
}

export function isCancellable(status: OrderStatus): boolean {
  return canTransition(status, 'cancelled');
}
