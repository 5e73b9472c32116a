import type { Order, OrderStatus, TypedEvent } from '@shop/contracts';
import {
  AppError,
  inTransaction,
  inTransactionOnce,
  outboxWrite,
  writeAll,
  type Database,
  type HandlerOutcome,
  type InboxClaim,
} from '@shop/platform';
import { orderWrites, type LockedOrder } from '../db/order-store';
import {
  canSeeOrder,
  INSUFFICIENT_STOCK,
  judgeStatusChange,
  RESERVATION_EXPIRED,
  RESERVATION_EXPIRY,
  STOCK_SAGA,
  type Actor,
  type StatusChanger,
} from '../domain/order-permissions';
import { changedOrder } from '../domain/order-snapshot';
import type { DB } from '../generated/database';
import { orderEvents, type EventContext } from '../messaging/order-events';
import { orderNotFound } from './get-order';

export interface StatusChangeCommand {
  actor: StatusChanger;
  orderId: number;
  status: OrderStatus;
  reason?: string | null;
  context: EventContext;
}

type StatusChangeResult =
  | { kind: 'changed'; order: Order }
  | { kind: 'not_found' }
  | { kind: 'refused'; from: OrderStatus; code: 'forbidden' | 'invalid_status_transition'; detail: string };

/**
 * The one status change (SPEC §4), as a transaction: lock and load the order (sent with BEGIN), ask
 * the domain, then write what it decided and its OrderStatusUpdated as one statement. The row lock
 * makes of two concurrent changes the second wait and be judged against the first one's result.
 * The change's time is the database's clock read under the lock (not in the UPDATE), so the event —
 * built before the write — carries exactly the updated_at the row gets.
 */
const statusChange = (command: StatusChangeCommand) => ({
  options: { load: (tx: Database<DB>) => orderWrites.lock(tx, command.orderId) },
  async apply(tx: Database<DB>, locked: LockedOrder | undefined): Promise<StatusChangeResult> {
    if (!locked || !canSeeOrder(command.actor, { userId: locked.order.user_id }))
      return { kind: 'not_found' };
    const current = { userId: locked.order.user_id, status: locked.order.status, version: locked.version };
    const verdict = judgeStatusChange(command.actor, current, command.status, command.reason ?? null);
    if (!verdict.allowed)
      return { kind: 'refused', from: current.status, code: verdict.code, detail: verdict.detail };
    const order = changedOrder(locked.order, verdict.change, locked.lockedAt);
    const event = orderEvents.statusUpdated(order, verdict.change, command.context);
    // Not `commitWith`: the update must be seen to have found the row before the event may commit.
    const updated = await writeAll(
      tx,
      [outboxWrite(tx, [event], { aggregateType: 'order' })],
      orderWrites.statusUpdate(tx, locked, order, verdict.change),
    );
    if (updated.length === 0) throw new Error(`order ${order.id} changed underneath a held lock`);
    return { kind: 'changed', order };
  },
});

/**
 * PATCH /orders/{id}/status. Others' orders are 404, an owner asking for anything but `cancelled`
 * is 403, an invalid transition is 400 — and so is an owner's cancel of a shipped order (only an
 * admin may, and then no stock comes back).
 */
export async function changeOrderStatus(
  deps: { db: Database<DB> },
  command: StatusChangeCommand & { actor: Actor },
): Promise<Order> {
  const change = statusChange(command);
  const result = await inTransaction(deps.db, change.options, (tx, locked) => change.apply(tx, locked));
  if (result.kind === 'changed') return result.order;
  if (result.kind === 'not_found') throw orderNotFound(command.orderId);
  if (result.code === 'forbidden') throw new AppError(403, 'forbidden', result.detail);
  throw new AppError(400, 'invalid_status_transition', result.detail, {
    extra: { from_status: result.from, to_status: command.status },
  });
}

/**
 * The saga's compensation on our side (SPEC §6): the product service could not reserve the stock,
 * so the order is cancelled with reason `insufficient_stock` — if it still may be; one that may
 * not (delivered, already cancelled) or is unknown is left as it is.
 */
export function cancelForInsufficientStock(
  deps: { db: Database<DB> },
  event: TypedEvent<'StockReservationFailed'>,
  claim: InboxClaim,
): Promise<HandlerOutcome> {
  return cancelOnEvent(deps, event, claim, { actor: STOCK_SAGA, reason: INSUFFICIENT_STOCK });
}

/**
 * The order's timer is due (SPEC §4, ORDER_PENDING_TTL): an order still pending is cancelled with
 * reason `reservation_expired`, and the stock saga releases its stock; a confirmed or cancelled one
 * is left as it is.
 */
export function expirePendingOrder(
  deps: { db: Database<DB> },
  event: TypedEvent<'OrderExpiryDue'>,
  claim: InboxClaim,
): Promise<HandlerOutcome> {
  return cancelOnEvent(deps, event, claim, { actor: RESERVATION_EXPIRY, reason: RESERVATION_EXPIRED });
}

/**
 * A cancel the service makes itself on a message, through the one status change. The inbox row is
 * claimed in the round trip that opens the transaction, so a redelivered message changes nothing,
 * and one that had no effect is recorded all the same.
 */
function cancelOnEvent(
  deps: { db: Database<DB> },
  event: TypedEvent<'StockReservationFailed' | 'OrderExpiryDue'>,
  claim: InboxClaim,
  why: { actor: StatusChanger & { system: string }; reason: string },
): Promise<HandlerOutcome> {
  const change = statusChange({
    actor: why.actor,
    orderId: event.data.order_id,
    status: 'cancelled',
    reason: why.reason,
    context: { correlationId: event.correlationid, causationId: event.id, traceparent: event.traceparent },
  });
  return inTransactionOnce(deps.db, claim, change.options, async (tx, locked) => {
    const result = await change.apply(tx, locked);
    return result.kind === 'changed' ? 'applied' : 'ignored';
  });
}
