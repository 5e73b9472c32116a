import type { HandlerOutcome } from '@shop/platform';
import type { Pool } from '../db/pool';
import { recordInboxOnly } from '../db/stock-repository';
import type { SagaCause } from './saga-cause';

/**
 * A status change that does not concern stock — anything but a cancel, and the cancel of a shipped
 * order, whose goods have left (see `stockEffectOfStatusChange`): noted in the inbox, nothing else.
 */
export async function recordOrderStatus(pool: Pool, cause: SagaCause): Promise<HandlerOutcome> {
  return (await recordInboxOnly(pool, cause.consumer, cause.eventId)) ? 'ignored' : 'duplicate';
}
