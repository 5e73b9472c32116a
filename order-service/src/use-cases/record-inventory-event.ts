import type { AnyEvent } from '@shop/contracts';
import { pgExecutor, recordInboxOnce, type HandlerOutcome } from '@shop/platform';
import type { Pool } from '../db/pg-pool';

/**
 * Inventory events the order service has no effect for are still recorded in the inbox, for the
 * record: one INSERT … ON CONFLICT DO NOTHING, atomic on its own, so no transaction around it.
 */
export async function recordInventoryEvent(
  deps: { pool: Pool },
  event: AnyEvent,
  consumer: string,
): Promise<HandlerOutcome> {
  const first = await recordInboxOnce(pgExecutor(deps.pool), consumer, event.id);
  return first ? 'ignored' : 'duplicate';
}
