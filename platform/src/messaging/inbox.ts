import type { Kysely } from 'kysely';
import { escapeLiteral } from 'pg';
import { openTransaction, type Database, type LoadingOptions } from '../database';

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

/** A message's inbox entry: which consumer, which event. */
export interface InboxClaim {
  consumer: string;
  eventId: string;
}

/**
 * A message's effect, exactly once: `effect` runs in one transaction whose first round trip is
 * BEGIN, the advisory lock if any, the inbox claim and the `load` reads — so a handler pays no
 * round trip of its own for the claim or its reads, and one that ends with `commitWith` takes two
 * in all. A redelivery finds its claim taken, runs nothing (what was loaded is dropped) and answers
 * 'duplicate'; the claim commits with the effect, or neither does.
 */
export function inTransactionOnce<Tables extends InboxTable, T>(
  db: Database<Tables>,
  claim: InboxClaim,
  effect: (tx: Database<Tables>) => Promise<T>,
): Promise<T | 'duplicate'>;
export function inTransactionOnce<Tables extends InboxTable, T, Loaded = undefined>(
  db: Database<Tables>,
  claim: InboxClaim,
  options: LoadingOptions<Tables, Loaded>,
  effect: (tx: Database<Tables>, loaded: Loaded) => Promise<T>,
): Promise<T | 'duplicate'>;
export function inTransactionOnce<Tables extends InboxTable, T, Loaded>(
  db: Database<Tables>,
  claim: InboxClaim,
  ...args:
    | [(tx: Database<Tables>) => Promise<T>]
    | [LoadingOptions<Tables, Loaded>, (tx: Database<Tables>, loaded: Loaded) => Promise<T>]
): Promise<T | 'duplicate'> {
  const [options, effect] = args.length === 1 ? [{}, args[0]] : args;
  // The opening round trip is a simple-protocol query, which takes no parameters: the values are
  // escaped literals (and the event id must parse as a uuid, as the envelope already checked).
  const insert =
    'INSERT INTO processed_messages (consumer, event_id) ' +
    `VALUES (${escapeLiteral(claim.consumer)}, ${escapeLiteral(claim.eventId)}::uuid) ON CONFLICT DO NOTHING`;
  return openTransaction(db, options, [insert], async (tx, opened, loaded) =>
    opened.affectedRows === 1n ? effect(tx, loaded as Loaded) : 'duplicate',
  );
}
