import { CANCEL_REASONS, type OrderStatus } from '@shop/contracts';
import { canTransition } from './order-status';

/** A user, as their token says (HTTP). */
export interface Actor {
  userId: number;
  isAdmin: boolean;
}

/**
 * The stock saga: the product service could not reserve an order's stock (StockReservationFailed),
 * so the order must be cancelled. No user asks; nobody is told "forbidden" or "not found".
 */
export const STOCK_SAGA = { system: 'stock-saga' } as const;
export type StockSaga = typeof STOCK_SAGA;

/**
 * The order's own timer (SPEC §4): an order still pending ORDER_PENDING_TTL seconds after it was
 * placed is cancelled, so nobody holds stock for ever. It cancels only a pending order: one that was
 * confirmed or cancelled meanwhile is left as it is.
 */
export const RESERVATION_EXPIRY = { system: 'reservation-expiry' } as const;
export type ReservationExpiry = typeof RESERVATION_EXPIRY;

/** The service itself, acting on a message: it acts for nobody, and only ever cancels. */
type SystemActor = StockSaga | ReservationExpiry;

/** Whoever asks for a status change: a user over HTTP, or the service itself on a message. */
export type StatusChanger = Actor | SystemActor;

/** Why the saga cancels: the reason its OrderStatusUpdated and the order's cancel_reason carry. */
export const INSUFFICIENT_STOCK = CANCEL_REASONS.insufficientStock;
/** Why the timer cancels. */
export const RESERVATION_EXPIRED = CANCEL_REASONS.reservationExpired;

const isSystem = (actor: StatusChanger): actor is SystemActor => 'system' in actor;

/** Who may see an order: its owner and admins (and the saga, which acts for nobody). Everyone else is told it does not exist. */
export function canSeeOrder(actor: StatusChanger, order: { userId: number }): boolean {
  return isSystem(actor) || actor.isAdmin || actor.userId === order.userId;
}

/**
 * Who may ask for a status change (whether the transition itself is valid is the status
 * machine's question): an admin any status, the owner and the saga only `cancelled`.
 */
export function mayRequestStatus(actor: StatusChanger, order: { userId: number }, to: OrderStatus): boolean {
  if (isSystem(actor)) return to === 'cancelled';
  if (actor.isAdmin) return true;
  return actor.userId === order.userId && to === 'cancelled';
}

/**
 * The statuses an owner may still cancel from. Once shipped the goods have left: only an admin may
 * cancel then (and no stock comes back), so for the owner it is an invalid transition, not a 403.
 * The saga cancels wherever the status machine allows it (its stock was never taken).
 */
const OWNER_CANCELLABLE: readonly OrderStatus[] = ['pending', 'confirmed'];

/** The order as a status change finds it, locked: whose, where it stands, its event sequence so far. */
export interface OrderState {
  userId: number;
  status: OrderStatus;
  version: number;
}

/** What an allowed change writes and tells: the new status and version, and the reasons. */
export interface StatusChange {
  from: OrderStatus;
  to: OrderStatus;
  /** The order's next version, which is also its OrderStatusUpdated's `sequence` (SPEC §5). */
  version: number;
  /** Kept on the order: the reason of a cancellation, nothing for any other change. */
  cancelReason: string | null;
  /** Carried by the event: whatever reason was given, for any change. */
  reason: string | null;
}

export type StatusChangeVerdict =
  | { allowed: true; change: StatusChange }
  | { allowed: false; code: 'forbidden' | 'invalid_status_transition'; detail: string };

/**
 * SPEC §4 on one status change, from a PATCH or from the saga: who asks (permissions), then from
 * where to where; if allowed, what to write.
 */
export function judgeStatusChange(
  actor: StatusChanger,
  order: OrderState,
  to: OrderStatus,
  reason: string | null = null,
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
  if (isSystem(actor) && actor.system === RESERVATION_EXPIRY.system && order.status !== 'pending') {
    return {
      allowed: false,
      code: 'invalid_status_transition',
      detail: `A ${order.status} order is no longer pending: its reservation does not expire.`,
    };
  }
  if (!isSystem(actor) && !actor.isAdmin && !OWNER_CANCELLABLE.includes(order.status)) {
    return {
      allowed: false,
      code: 'invalid_status_transition',
      detail: `An order owner cannot cancel a ${order.status} order; only pending or confirmed ones.`,
    };
  }
  return {
    allowed: true,
    change: {
      from: order.status,
      to,
      version: order.version + 1,
      cancelReason: to === 'cancelled' ? reason : null,
      reason,
    },
  };
}
