import type { Kysely } from 'kysely';
import type { Database } from '../database';

/** The inbox table (`processed_messages`) as every service's schema.prisma declares it. */
export interface InboxTable {
  processed_messages: { consumer: string; event_id: string };
}

/**
 * The inbox half of effectively-once (SPEC §6). A handler claims the event first, inside the same
 * transaction as its effect: the (consumer, event_id) primary key makes a redelivered or duplicated
 * event insert nothing, so the handler sees `false` and skips its effect, and because the row
 * commits with the effect, a crash before commit leaves neither behind. On its own (no
 * transaction) it records an event that has no effect, atomically.
 */
export async function claimInbox<Tables extends InboxTable>(
  tx: Database<Tables>,
  consumer: string,
  eventId: string,
): Promise<boolean> {
  const result = await (tx as unknown as Kysely<InboxTable>)
    .insertInto('processed_messages')
    .values({ consumer, event_id: eventId })
    .onConflict((conflict) => conflict.doNothing())
    .executeTakeFirst();
  return result.numInsertedOrUpdatedRows === 1n;
}
