import type { OrderStatus } from '@shop/contracts';

export interface Actor {
  userId: number;
  isAdmin: boolean;
}

/** Who may see an order: its owner and admins. Everyone else is told it does not exist. */
export function canSeeOrder(actor: Actor, order: { userId: number }): boolean {
  return actor.isAdmin || actor.userId === order.userId;
}

/**
 * Who may ask for a status change (whether the transition itself is valid is the status
 * machine's question): an admin any status, the owner only `cancelled`.
 */
export function mayRequestStatus(actor: Actor, order: { userId: number }, to: OrderStatus): boolean {
  if (actor.isAdmin) return true;
  return actor.userId === order.userId && to === 'cancelled';
}
