import type { SqlExecutor } from './sql-executor';

/**
 * The inbox row ($1 consumer, $2 event id), for services that record it inside a larger statement
 * of their own (a CTE with their effect). Add `RETURNING 1` to learn whether it was the first time.
 */
export const INBOX_INSERT =
  'INSERT INTO processed_messages (consumer, event_id) VALUES ($1, $2::uuid) ON CONFLICT DO NOTHING';

/**
 * The inbox half of effectively-once (SPEC §6). A handler calls this first, inside the same
 * transaction as its effect: the (consumer, event_id) primary key makes a redelivered or
 * duplicated event insert nothing, so the handler sees `false` and skips its effect, and because
 * the row commits with the effect, a crash before commit leaves neither behind.
 */
export async function recordInboxOnce(tx: SqlExecutor, consumer: string, eventId: string): Promise<boolean> {
  const inserted = await tx.$executeRawUnsafe(INBOX_INSERT, consumer, eventId);
  return inserted === 1;
}
