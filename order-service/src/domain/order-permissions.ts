import type { OrderStatus } from '@shop/contracts';
import { canTransition } from './order-status';

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

/**
 * The statuses an owner may still cancel from. Once shipped the goods have left: only an admin may
 * cancel then (and no stock comes back), so for the owner it is an invalid transition, not a 403.
 */
const OWNER_CANCELLABLE: readonly OrderStatus[] = ['pending', 'confirmed'];

export type StatusChangeVerdict =
  { allowed: true } | { allowed: false; code: 'forbidden' | 'invalid_status_transition'; detail: string };

/** SPEC §4 on one PATCH /orders/{id}/status: who asks (permissions), then from where to where. */
export function judgeStatusChange(
  actor: Actor,
  order: { userId: number; status: OrderStatus },
  to: OrderStatus,
): StatusChangeVerdict {
  if (!mayRequestStatus(actor, order, to)) {
    return { allowed: false, code: 'forbidden', detail: 'An order owner may only cancel the order.' };
  }
  if (!canTransition(order.status, to)) {
    return {
      allowed: false,
      code: 'invalid_status_transition',
      detail: `An order cannot go from ${order.status} to ${to}.`,
    };
  }
  if (!actor.isAdmin && !OWNER_CANCELLABLE.includes(order.status)) {
    return {
      allowed: false,
      code: 'invalid_status_transition',
      detail: `An order owner cannot cancel a ${order.status} order; only pending or confirmed ones.`,
    };
  }
  return { allowed: true };
}
