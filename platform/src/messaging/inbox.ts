import type { AnyEvent, EventType } from '@shop/contracts';
import { EVENT_ORDER } from '@shop/contracts';
import { CompiledQuery, type Compilable } from 'kysely';
import { escapeLiteral } from 'pg';
import {
  advisoryLockStatement,
  commitTogether,
  oneStatement,
  openTransaction,
  sendTogether,
  type Database,
  type LoadingOptions,
  type Statement,
} from '../database';

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

/** A message's inbox entry: which consumer, which event, and its place (without one, a stream of its own). */
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
 * the envelope already checked). The rules are the SQL function `shop_inbox_claim`
 * (platform/sql/outbox-inbox.sql): the event is applied only as the next of its stream at this
 * consumer (`inbox_streams`), once its cause is in the log, and one at or below the stream's place is
 * a duplicate however old. Its writes depend on that verdict, so an early event writes nothing even
 * where the statement commits on its own (`claimInbox` outside a transaction). A function rather
 * than an inline statement: Postgres plans its statements once per connection, not with every claim
 * (decision 36 measured about 40 % less Postgres CPU per claim). Exported for the bench's raw
 * baselines, which send this very text.
 */
export function claimStatement({ consumer, eventId, place = placeOfUnplaced(eventId) }: InboxClaim): string {
  return `SELECT claimed, in_order, seen FROM shop_inbox_claim(${claimArguments({ consumer, eventId, place })})`;
}

/** The claim's arguments of `shop_inbox_claim`, as escaped literals. */
function claimArguments({ consumer, eventId, place = placeOfUnplaced(eventId) }: InboxClaim): string {
  if (!Number.isInteger(place.sequence))
    throw new TypeError(`sequence must be an integer: ${place.sequence}`);
  const cause = place.causeId === null ? 'NULL::uuid' : `${escapeLiteral(place.causeId)}::uuid`;
  return (
    `${escapeLiteral(consumer)}::varchar, ${escapeLiteral(eventId)}::uuid, ` +
    `${escapeLiteral(place.source)}::varchar, ${escapeLiteral(place.subject)}::varchar, ` +
    `${place.sequence}, ${place.opensStream}, ${cause}`
  );
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
 * transaction as its effect: a redelivered or duplicated event finds its stream's place already past
 * it, so the claim writes nothing, the handler sees `false` and skips its effect; and because the
 * claim commits with the effect, a crash before commit leaves neither behind. On its own (no
 * transaction) it records an event that has no effect, atomically. A claim with a place
 * (`HandlerContext.claim`) also keeps the order's events in order: it throws `EventOutOfOrderError`
 * for an event that came too early. Without a place, the event is a stream of its own.
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

/**
 * Several claims as ONE statement, answering a row per claim in the order given. The function runs
 * once per claim, in that order: it takes its arguments from the VALUES row, so the only plan is a
 * nested loop over the VALUES list, which yields its rows as written (and a volatile function never
 * runs in parallel). Each call sees what the calls before it wrote (a volatile function's
 * statements take a new snapshot each). One claim goes as `claimStatement`: the VALUES
 * form cost Postgres 0.04 ms more per claim (`bench/experiments/inbox-claim.ts`, decision 41).
 */
export function claimsStatement(claims: readonly InboxClaim[]): string {
  if (claims.length === 1) return claimStatement(claims[0]!);
  const calls = claims.map((claim, index) => `(${index}, ${claimArguments(claim)})`);
  return (
    'SELECT c.claimed, c.in_order, c.seen FROM (VALUES ' +
    calls.join(', ') +
    ') AS v(n, consumer, event, source, subject, seq, opens, cause) ' +
    'CROSS JOIN LATERAL shop_inbox_claim(v.consumer, v.event, v.source, v.subject, v.seq, v.opens, v.cause) AS c ' +
    'ORDER BY v.n'
  );
}

/** What each message of a batch is (`inTransactionOnceEach`). */
export interface EachMessage<Tables, Item, Row, LoadedRow> {
  claim: (item: Item) => InboxClaim;
  /**
   * The message's advisory lock. Messages with the same lock are applied one after another, in the
   * order given; messages with different locks must not depend on one another (that is what the
   * lock says), so their claims, reads and writes go together. Without it, no message depends on
   * another: all go together (their claims still run in the order given, so a duplicate within the
   * batch, or the next event of a stream, is still told apart).
   */
  advisoryLock?: (item: Item) => readonly [number, number];
  /** The read the message's writes depend on, built but not run; `undefined` when it reads nothing. */
  load?: (tx: Database<Tables>, item: Item) => Compilable<LoadedRow> | undefined;
  /** What a claimed message writes, built but not run (as `commitWith` takes it). */
  write: (
    tx: Database<Tables>,
    item: Item,
    loaded: LoadedRow[],
  ) => { writes: readonly Statement[]; returning?: Statement<Row> };
  /**
   * A statement sent ahead of a round's writes, in their round trip, given the messages that write:
   * typically the rows they are about to update, locked in one order (`ORDER BY id FOR UPDATE`).
   * Two batches updating shared rows message by message would otherwise lock them in different
   * orders and deadlock; Postgres would break that only after `deadlock_timeout`. The order holds
   * within a round: a batch of several rounds (one order's events after each other) locks each
   * round's rows in turn, and can still meet another transaction in a circle, rarely.
   */
  lockRows?: (tx: Database<Tables>, writing: readonly Item[]) => Compilable | undefined;
}

/**
 * `inTransactionOnce` for a batch: every message's effect, each exactly once, in ONE transaction with
 * one commit, in about the round trips of one message. The messages go in rounds: a round holds at
 * most one message per lock (the first of each, then the second, …), so nothing in a round depends
 * on anything else in it. A round costs two round trips: its claims in one statement with its reads,
 * then its writes, each message's as one statement (`oneStatement`). The first round's claims go
 * with BEGIN and every lock of the batch (sorted, so two batches never wait for each other in a
 * circle); the last round's writes go with the COMMIT. A message's writes are skipped when its claim
 * finds it a duplicate, and it answers 'duplicate'; the others answer the rows of their `returning`.
 *
 * All or nothing: any failure — a write that fails, an event that came before its turn
 * (`EventOutOfOrderError`), a lost connection — rolls back every message's claim and writes, and the
 * caller takes them one at a time instead (`createConsumer` does).
 */
export function inTransactionOnceEach<Tables extends InboxTable, Item, Row = never, LoadedRow = never>(
  db: Database<Tables>,
  items: readonly Item[],
  each: EachMessage<Tables, Item, Row, LoadedRow>,
): Promise<(Row[] | 'duplicate')[]> {
  if (items.length === 0) return Promise.resolve([]);
  const claims = items.map(each.claim);
  const rounds = roundsOf(items, each.advisoryLock);
  const locks = each.advisoryLock ? inKeyOrder(items.map(each.advisoryLock)) : [];
  const claimsOf = (round: readonly number[]) => claimsStatement(round.map((index) => claims[index]));

  /** Sends a round's reads together, behind `first` if given; one answer per message (none if it reads nothing). */
  const sendReads = async (tx: Database<Tables>, round: readonly number[], first?: CompiledQuery) => {
    const reads = round.map((index) => each.load?.(tx, items[index])?.compile());
    const answers = await sendTogether(tx, [
      ...(first ? [first] : []),
      ...reads.filter((read) => read !== undefined),
    ]);
    const firstAnswer = first ? answers.shift() : undefined;
    return { firstAnswer, loaded: reads.map((read) => (read ? answers.shift() : undefined)) };
  };

  return openTransaction(
    db,
    { load: (tx) => sendReads(tx, rounds[0]) },
    [...locks.map(advisoryLockStatement), claimsOf(rounds[0])],
    async (tx, firstClaims, firstReads) => {
      const outcomes: (Row[] | 'duplicate')[] = new Array(items.length);
      for (const [roundIndex, round] of rounds.entries()) {
        const { firstAnswer, loaded } =
          roundIndex === 0
            ? { firstAnswer: firstClaims, loaded: firstReads.loaded }
            : await sendReads(tx, round, CompiledQuery.raw(claimsOf(round)));
        const claimed = firstAnswer!.rows;
        // The round's claimed messages, each with its write (none when it has nothing to write).
        const writing: { index: number; write?: CompiledQuery }[] = [];
        round.forEach((index, place) => {
          if (!claimAnswer(claims[index], { rows: [claimed[place]] })) {
            outcomes[index] = 'duplicate';
            return;
          }
          const read = (loaded[place]?.rows ?? []) as LoadedRow[];
          const { writes, returning } = each.write(tx, items[index], read);
          writing.push({ index, write: oneStatement(tx, writes, returning)?.compile() });
          outcomes[index] = [];
        });
        const sent = writing.filter((message) => message.write !== undefined);
        const writers = sent.map((message) => items[message.index]);
        const lock = writers.length > 0 ? each.lockRows?.(tx, writers)?.compile() : undefined;
        const lastRound = roundIndex === rounds.length - 1;
        const answers = await (lastRound ? commitTogether : sendTogether)(tx, [
          ...(lock ? [lock] : []),
          ...sent.map((message) => message.write!),
        ]);
        const written = lock ? answers.slice(1) : answers;
        sent.forEach((message, place) => (outcomes[message.index] = written[place]!.rows as Row[]));
      }
      return outcomes;
    },
  );
}

/**
 * The batch's rounds, as indexes: the first message of each lock, then the second, and so on, each
 * round in the order given. Without locks, one round.
 */
function roundsOf<Item>(
  items: readonly Item[],
  lockOf: ((item: Item) => readonly [number, number]) | undefined,
): number[][] {
  const rounds: number[][] = [];
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    const key = lockOf ? lockOf(item).join(':') : '';
    const round = lockOf ? (seen.get(key) ?? 0) : 0;
    seen.set(key, round + 1);
    (rounds[round] ??= []).push(index);
  });
  return rounds;
}

/** Distinct lock keys, sorted: the order every batch takes its locks in. */
function inKeyOrder(locks: readonly (readonly [number, number])[]): (readonly [number, number])[] {
  const distinct = new Map(locks.map((lock) => [lock.join(':'), lock]));
  return [...distinct.values()].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}
