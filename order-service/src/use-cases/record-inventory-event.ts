import type { AnyEvent } from '@shop/contracts';
import { recordInboxOnce, type HandlerOutcome } from '@shop/platform';
import { runInTransaction } from '../db/order-repository';
import type { Prisma } from '../db/prisma';

/** Inventory events the order service has no effect for are still recorded in the inbox, for the record. */
export async function recordInventoryEvent(
  deps: { prisma: Prisma },
  event: AnyEvent,
  consumer: string,
): Promise<HandlerOutcome> {
  const first = await runInTransaction(deps.prisma, (tx) => recordInboxOnce(tx, consumer, event.id));
  return first ? 'ignored' : 'duplicate';
}
