import type { Order, OrderStatus } from '@shop/contracts';
import { AppError } from '@shop/platform';
import { orderWrites, runInTransaction } from '../db/order-repository';
import type { Prisma } from '../db/prisma';
import { canSeeOrder, judgeStatusChange, type Actor } from '../domain/order-permissions';
import { orderEvents, type EventContext } from '../messaging/order-events';
import { orderNotFound } from './get-order';

export interface ChangeOrderStatusCommand {
  actor: Actor;
  orderId: number;
  status: OrderStatus;
  reason?: string;
  context: EventContext;
}

/**
 * Changes an order's status (SPEC §4): the row is locked first, so of two concurrent changes the
 * second waits and is judged against the first one's result. Others' orders are 404, an owner
 * asking for anything but `cancelled` is 403, an invalid transition is 400 — and so is an owner's
 * cancel of a shipped order (only an admin may, and then no stock comes back). The update and its
 * OrderStatusUpdated outbox row commit together.
 */
export async function changeOrderStatus(
  deps: { prisma: Prisma },
  command: ChangeOrderStatusCommand,
): Promise<Order> {
  const { actor, orderId, status, reason } = command;
  return runInTransaction(deps.prisma, async (tx) => {
    const current = await orderWrites.lock(tx, orderId);
    if (!current || !canSeeOrder(actor, current)) throw orderNotFound(orderId);
    const verdict = judgeStatusChange(actor, current, status);
    if (!verdict.allowed && verdict.code === 'forbidden')
      throw new AppError(403, 'forbidden', verdict.detail);
    if (!verdict.allowed) {
      throw new AppError(400, 'invalid_status_transition', verdict.detail, {
        extra: { from_status: current.status, to_status: status },
      });
    }
    const cancelReason = status === 'cancelled' ? (reason ?? null) : null;
    const updated = await orderWrites.updateStatus(tx, current, { status, cancelReason });
    await orderEvents.append(tx, [
      orderEvents.statusUpdated(
        updated,
        { from: current.status, reason: cancelReason ?? reason ?? null, sequence: current.version + 1 },
        command.context,
      ),
    ]);
    return updated;
  });
}
