import type { AnyEvent, EventType } from '@shop/contracts';
import { EVENT_ORDER } from '@shop/contracts';
import { CompiledQuery } from 'kysely';
import { escapeLiteral } from 'pg';
import { openTransaction, type Database, type LoadingOptions } from '../database';

/** The inbox's tables (platform/sql/outbox-inbox.sql) as every service's schema.prisma declares them. */
export interface InboxTable {
  processed_messages: {
    consumer: string;
    event_id: string;
  };
  inbox_streams: {
    consumer: string;
    source: string;
    subject: string;
    sequence: number;
    since: number;
  };
}

/**
 * Where an event stands in its order's history, and what must have taken effect at this consumer
 * before it may (SPEC §6 "Ordering"; the rules are the contract's `EVENT_ORDER`).
 */
export interface EventPlace {
  /** The event's stream: one aggregate's events from one service. */
  source: string;
  subject: string;
  sequence: number;
  /** The first event of its stream: nothing of its own stream must come before it. */
  opensStream: boolean;
  /** The event that caused it, when this consumer handles that event too; `null` when none. */
  causeId: string | null;
}

/** A message's inbox entry: which consumer, which event, and (when the consumer keeps order) its place. */
export interface InboxClaim {
  consumer: string;
  eventId: string;
  place?: EventPlace;
}

/**
 * The event's place for a consumer that handles `handled`: its cause counts only if this consumer
 * handles the cause's type (one it never receives would hold the event back for good).
 */
export function placeOf(event: AnyEvent, handled: ReadonlySet<EventType>): EventPlace {
  const order = EVENT_ORDER[event.type] as {
    opensStream: boolean;
    causeType: (data: AnyEvent['data']) => EventType | null;
  };
  const causeType = event.causationid === null ? null : order.causeType(event.data);
  return {
    source: event.source,
    subject: event.subject,
    sequence: event.sequence,
    opensStream: order.opensStream,
    causeId: causeType !== null && handled.has(causeType) ? event.causationid : null,
  };
}

/**
 * Thrown by a claim whose event came before what must precede it (the previous event of its stream,
 * or its cause, has not taken effect here yet). Nothing was written: the transaction rolls back, and
 * the consumer tries the event again a little later (`createConsumer`).
 */
export class EventOutOfOrderError extends Error {
  readonly outOfOrder = true;
  constructor(
    readonly eventId: string,
    readonly waitingFor: string,
  ) {
    super(`event ${eventId} waits for ${waitingFor} to take effect first`);
    this.name = 'EventOutOfOrderError';
  }
}

export const isEventOutOfOrder = (error: unknown): error is EventOutOfOrderError =>
  (error as { outOfOrder?: unknown } | null)?.outOfOrder === true;

/**
 * The claim as one simple-protocol statement (it goes in a transaction's opening round trip, which
 * takes no parameters: every value is an escaped literal, and the event id must parse as a uuid, as
 * the envelope already checked). It claims only if the event is the next of its stream here
 * (`in_order`) and not one already applied (`seen`), and says which:
 * - `inbox_streams` holds how far this consumer has applied the stream. The next event advances
 *   it; an event at or below it is a duplicate, however old (dedup never depends on the log's
 *   retention); one further ahead is early. A stream's first event creates its row.
 * - its cause, when there is one to wait for, must be in the inbox's log (`processed_messages`).
 * - a consumer with history from before places were recorded (`inbox_unordered_history`, decision
 *   33) takes up a stream it has no place for where it finds it, and for events before that place
 *   falls back on the log to tell a duplicate.
 * Every write depends on the verdict inside the statement, so an early event writes nothing even
 * where the statement commits on its own (`claimInbox` outside a transaction). Two deliveries of one
 * event at once: the second waits on the first's stream row and then finds nothing to advance.
 * The log's lookups are a function (`shop_inbox_has`) whose plan over every partition is made once
 * per connection, not with each claim, and only run when needed.
 */
function claimStatement({ consumer, eventId, place = placeOfUnplaced(eventId) }: InboxClaim): string {
  const c = escapeLiteral(consumer);
  const id = `${escapeLiteral(eventId)}::uuid`;
  if (!Number.isInteger(place.sequence))
    throw new TypeError(`sequence must be an integer: ${place.sequence}`);
  const n = place.sequence;
  const [source, subject] = [escapeLiteral(place.source), escapeLiteral(place.subject)];
  const ofStream = (table = '') =>
    `${table}consumer = ${c} AND ${table}source = ${source} AND ${table}subject = ${subject}`;
  const causeTakenIn =
    place.causeId === null ? 'true' : `shop_inbox_has(${c}, ${escapeLiteral(place.causeId)}::uuid)`;
  return `WITH state AS (
      SELECT s.sequence AS head, s.since,
             EXISTS (SELECT 1 FROM inbox_unordered_history WHERE consumer = ${c}) AS unordered
        FROM (SELECT 1) one LEFT JOIN inbox_streams s ON ${ofStream('s.')}),
    verdict AS (
      SELECT head, since,
             CASE WHEN head IS NOT NULL AND ${n} >= since THEN ${n} <= head
                  WHEN head IS NULL AND NOT unordered THEN false
                  ELSE shop_inbox_has(${c}, ${id}) END AS seen,
             CASE WHEN head IS NOT NULL AND ${n} >= since THEN ${n} = head + 1
                  WHEN head IS NULL THEN ${place.opensStream} OR unordered
                  ELSE true END AND ${causeTakenIn} AS in_order
        FROM state),
    advanced AS (
      UPDATE inbox_streams SET sequence = ${n}
       WHERE ${ofStream()} AND sequence = ${n - 1} AND (SELECT in_order AND NOT seen FROM verdict)
      RETURNING 1),
    opened AS (
      INSERT INTO inbox_streams (consumer, source, subject, sequence, since)
      SELECT ${c}, ${source}, ${subject}, ${n}, ${n}
        FROM verdict WHERE head IS NULL AND in_order AND NOT seen
      ON CONFLICT DO NOTHING RETURNING 1),
    logged AS (
      INSERT INTO processed_messages (consumer, event_id)
      SELECT ${c}, ${id} FROM verdict
       WHERE EXISTS (SELECT 1 FROM advanced) OR EXISTS (SELECT 1 FROM opened)
          OR (head IS NOT NULL AND ${n} < since AND in_order AND NOT seen)
      RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM logged) AS claimed, in_order, seen FROM verdict`;
}

/** An event claimed without a place is a stream of its own: deduplicated for good, one row each. */
const placeOfUnplaced = (eventId: string): EventPlace => ({
  source: '',
  subject: eventId,
  sequence: 1,
  opensStream: true,
  causeId: null,
});

/** What the claim statement answered: claimed or not; throws when the event came too early. */
function claimAnswer(
  claim: InboxClaim,
  answer: { numAffectedRows?: bigint; rows: readonly unknown[] },
): boolean {
  const {
    claimed,
    in_order: inOrder,
    seen,
  } = answer.rows[0] as {
    claimed: boolean;
    in_order: boolean;
    seen: boolean;
  };
  if (claimed) return true;
  // A duplicate is a duplicate whatever its place: its first delivery already waited its turn.
  if (!seen && !inOrder) throw new EventOutOfOrderError(claim.eventId, waitingFor(claim.place!));
  return false;
}

function waitingFor(place: EventPlace): string {
  const previous = place.opensStream
    ? []
    : [`${place.source} ${place.subject} sequence ${place.sequence - 1}`];
  const cause = place.causeId === null ? [] : [`its cause ${place.causeId}`];
  return [...previous, ...cause].join(' or ');
}

/**
 * The inbox half of effectively-once (SPEC §6). A handler claims the event first, inside the same
 * transaction as its effect: the (consumer, event_id) primary key makes a redelivered or duplicated
 * event insert nothing, so the handler sees `false` and skips its effect, and because the row
 * commits with the effect, a crash before commit leaves neither behind. On its own (no
 * transaction) it records an event that has no effect, atomically. A claim with a place
 * (`HandlerContext.claim`) also keeps the order's events in order: it throws `EventOutOfOrderError`
 * for an event that came too early.
 */
export async function claimInbox<Tables extends InboxTable>(
  tx: Database<Tables>,
  claim: InboxClaim,
): Promise<boolean>;
export async function claimInbox<Tables extends InboxTable>(
  tx: Database<Tables>,
  consumer: string,
  eventId: string,
): Promise<boolean>;
export async function claimInbox<Tables extends InboxTable>(
  tx: Database<Tables>,
  claimOrConsumer: InboxClaim | string,
  eventId?: string,
): Promise<boolean> {
  const claim =
    typeof claimOrConsumer === 'string' ? { consumer: claimOrConsumer, eventId: eventId! } : claimOrConsumer;
  const answer = await tx.executeQuery(CompiledQuery.raw(claimStatement(claim)));
  return claimAnswer(claim, answer);
}

/**
 * A message's effect, exactly once: `effect` runs in one transaction whose first round trip is
 * BEGIN, the advisory lock if any, the inbox claim and the `load` reads — so a handler pays no
 * round trip of its own for the claim or its reads, and one that ends with `commitWith` takes two
 * in all. A redelivery finds its claim taken, runs nothing (what was loaded is dropped) and answers
 * 'duplicate'; the claim commits with the effect, or neither does. An event that came before its
 * turn (see `claimInbox`) rejects with `EventOutOfOrderError` and changes nothing.
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
  return openTransaction(db, options, [claimStatement(claim)], async (tx, opened, loaded) =>
    claimAnswer(claim, opened) ? effect(tx, loaded as Loaded) : 'duplicate',
  );
}
