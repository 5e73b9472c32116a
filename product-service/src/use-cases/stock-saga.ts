import type { AnyEvent, EventType } from '@shop/contracts';
import {
  buildEvent,
  commitWith,
  inTransactionOnce,
  outboxWrite,
  type BuildEventInput,
  type HandlerOutcome,
  type InboxClaim,
  type Statement,
} from '@shop/platform';
import type { Db } from '../db/database';
import {
  isLostStockRace,
  loadForReservation,
  loadReservation,
  orderLock,
  reservationInsert,
  reservationStatusUpdate,
  stockChange,
} from '../db/reservation-store';
import {
  consolidateLines,
  decideRelease,
  decideReservation,
  type StockLine,
} from '../domain/stock-reservation';

/*
 * The stock saga's two steps on the product side (SPEC §6), each one transaction under the order's
 * advisory lock that reads: lock and load (BEGIN, the lock, the inbox claim and the reads, sent
 * together) → the domain decides → write what it decided, its event included, as one statement sent
 * with the COMMIT. Round trips are the cost of a step, so a step takes two. The lock serialises one order's
 * create and cancel, whichever arrives first. Products are not locked while the step decides: the
 * stock is taken relative to the row, and the CHECK (stock >= 0) refuses a write that would oversell.
 */

/** Runs of a reservation that lost a race for the last units before it gives up (the consumer then retries it). */
const STOCK_RACE_ATTEMPTS = 5;

/**
 * Stock saga, step 1 (SPEC §6): reserve an order's stock when it is created — all lines or none.
 * One transaction holds the inbox row, the stock change, the reservation row and the outbox event,
 * so a redelivery finds the inbox row and changes nothing, and a failure anywhere leaves none of them.
 */
export async function reserveStock(
  db: Db,
  order: { orderId: number; items: StockLine[] },
  cause: SagaCause,
): Promise<HandlerOutcome> {
  return againIfRaceLost(() => reserveOnce(db, order, cause));
}

/**
 * Runs a step again when it lost a race for stock (`isLostStockRace`). Everything had rolled back,
 * the inbox claim included, so the next run starts afresh and decides on the stock as it is now.
 */
async function againIfRaceLost<T>(step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!isLostStockRace(error) || attempt === STOCK_RACE_ATTEMPTS) throw error;
    }
  }
}

function reserveOnce(
  db: Db,
  order: { orderId: number; items: StockLine[] },
  cause: SagaCause,
): Promise<HandlerOutcome> {
  const { orderId } = order;
  const lines = consolidateLines(order.items);
  return inTransactionOnce(
    db,
    cause,
    {
      advisoryLock: orderLock(orderId),
      load: (tx) =>
        loadForReservation(
          tx,
          orderId,
          lines.map((line) => line.product_id),
        ),
    },
    async (tx, { recorded, stock }) => {
      // A reservation, a rejection, or the tombstone of a cancel that came first: this order is decided.
      if (recorded) return 'ignored';
      await commitWith(tx, reservationWrites(tx, orderId, lines, stock, cause));
      return 'applied';
    },
  );
}

/**
 * What a reservation writes once it has read the stock: the domain decides, and the writes follow —
 * the stock taken, the reservation row and StockReserved, or the rejected row and
 * StockReservationFailed. Built but not run (the bench's raw baseline sends these very statements).
 */
export function reservationWrites(
  tx: Db,
  orderId: number,
  lines: StockLine[],
  stock: ReadonlyMap<number, number>,
  cause: SagaCause,
): Statement[] {
  const decision = decideReservation(lines, stock);
  if (decision.kind === 'reserve') {
    const reserved = inventoryEvent(cause, {
      type: 'StockReserved',
      orderId,
      sequence: 1,
      data: { order_id: orderId, items: decision.lines },
    });
    return [
      stockChange(tx, decision.lines, 'take'),
      reservationInsert(tx, orderId, { status: 'reserved', items: decision.lines }),
      outboxWrite(tx, [reserved], { aggregateType: AGGREGATE_TYPE }),
    ];
  }
  const failed = inventoryEvent(cause, {
    type: 'StockReservationFailed',
    orderId,
    sequence: 1,
    data: { order_id: orderId, reason: decision.reason, shortages: decision.shortages },
  });
  return [
    reservationInsert(tx, orderId, { status: 'rejected', items: lines }),
    outboxWrite(tx, [failed], { aggregateType: AGGREGATE_TYPE }),
  ];
}

/**
 * Stock saga, compensation (SPEC §6): a cancelled order that had not shipped gives its reserved
 * stock back exactly once — the reservation moves 'reserved' → 'released' in the same transaction
 * as the stock, the inbox row and the StockReleased event, so a second cancel finds nothing to
 * release. A cancel that overtakes its create leaves the tombstone 'cancelled_before_create', and
 * the late create (serialised behind it by the order's lock) reserves nothing.
 */
export async function releaseStock(db: Db, orderId: number, cause: SagaCause): Promise<HandlerOutcome> {
  return againIfRaceLost(() => releaseOnce(db, orderId, cause));
}

function releaseOnce(db: Db, orderId: number, cause: SagaCause): Promise<HandlerOutcome> {
  return inTransactionOnce(
    db,
    cause,
    { advisoryLock: orderLock(orderId), load: (tx) => loadReservation(tx, orderId) },
    async (tx, reservation) => {
      const decision = decideRelease(reservation);

      if (decision.kind === 'none') return 'ignored';
      if (decision.kind === 'tombstone') {
        await commitWith(tx, [
          reservationInsert(tx, orderId, { status: 'cancelled_before_create', items: [] }),
        ]);
        return 'applied';
      }

      const released = inventoryEvent(cause, {
        type: 'StockReleased',
        orderId,
        sequence: 2,
        data: { order_id: orderId, items: decision.lines },
      });
      await commitWith(tx, [
        stockChange(tx, decision.lines, 'give back'),
        reservationStatusUpdate(tx, orderId, 'released'),
        outboxWrite(tx, [released], { aggregateType: AGGREGATE_TYPE }),
      ]);
      return 'applied';
    },
  );
}

/** The inbound event a saga step answers: its id deduplicates the step, and it links the events it causes. */
export interface SagaCause extends InboxClaim {
  correlationId: string;
  traceparent: string | null;
}

export const SOURCE = '/product-service';

/** The outbox's aggregate of the saga's events: one order's reservation. */
const AGGREGATE_TYPE = 'stock_reservation';

/**
 * An inventory event about one order's reservation, caused by `cause`. `buildEvent` checks the
 * payload against its contract, so an invalid event fails the step before anything is written
 * instead of reaching consumers.
 */
export function inventoryEvent<T extends EventType>(
  cause: SagaCause,
  input: Pick<BuildEventInput<T>, 'type' | 'data' | 'sequence'> & { orderId: number },
): AnyEvent {
  const event = buildEvent({
    type: input.type,
    data: input.data,
    sequence: input.sequence,
    source: SOURCE,
    subject: input.orderId,
    correlationId: cause.correlationId,
    causationId: cause.eventId,
    traceparent: cause.traceparent,
  });
  // A TypedEvent<T> of a generic T is one of AnyEvent's members; TypeScript cannot narrow it itself.
  return event as AnyEvent;
}
