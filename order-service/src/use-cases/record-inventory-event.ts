import {
  claimInbox,
  inTransactionOnceEach,
  type Database,
  type HandlerOutcome,
  type InboxClaim,
} from '@shop/platform';
import type { DB } from '../generated/database';

/**
 * Inventory events the order service has no effect for are still recorded in the inbox, for the
 * record: one INSERT … ON CONFLICT DO NOTHING, atomic on its own, so no transaction around it.
 */
export async function recordInventoryEvent(
  deps: { db: Database<DB> },
  claim: InboxClaim,
): Promise<HandlerOutcome> {
  return (await claimInbox(deps.db, claim)) ? 'ignored' : 'duplicate';
}

/**
 * `recordInventoryEvent` for the events that arrived together: their claims in one statement, one
 * transaction, one commit.
 */
export async function recordInventoryEvents(
  deps: { db: Database<DB> },
  claims: readonly InboxClaim[],
): Promise<HandlerOutcome[]> {
  const outcomes = await inTransactionOnceEach(deps.db, claims, {
    claim: (claim) => claim,
    write: () => ({ writes: [] }),
  });
  return outcomes.map((outcome) => (outcome === 'duplicate' ? 'duplicate' : 'ignored'));
}
