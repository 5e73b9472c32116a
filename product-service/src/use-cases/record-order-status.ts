import { recordInboxOnce, type HandlerOutcome } from '@shop/platform';
import type { Db } from '../db/prisma';
import type { SagaCause } from './saga-cause';

/** A status change that does not concern stock (anything but a cancel): noted in the inbox, nothing else. */
export async function recordOrderStatus(db: Db, cause: SagaCause): Promise<HandlerOutcome> {
  const recorded = await db.$transaction((tx) => recordInboxOnce(tx, cause.consumer, cause.eventId));
  return recorded ? 'ignored' : 'duplicate';
}
