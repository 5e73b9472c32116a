import type { AnyEvent, EventType } from '@shop/contracts';
import {
  buildEvent,
  inTransactionOnceEach,
  outboxWrite,
  type BuildEventInput,
  type HandlerOutcome,
  type InboxClaim,
  type Statement,
} from '@shop/platform';
import type { Db } from '../db/database';
import {
  isLostStockRace,
  orderLock,
  productsLock,
  readReservation,
  readReservationLoad,
  reservationInsert,
  reservationLoadQuery,
  reservationQuery,
  reservationStatusUpdate,
  stockChange,
} from '../db/reservation-store';
import {
  consolidateLines,
  decideRelease,
  decideReservation,
  type Reservation,
  type StockLine,
} from '../domain/stock-reservation';

/*
 * The stock saga's two steps on the product side (SPEC §6), each one transaction under the order's
 * advisory lock that reads: lock and load (BEGIN, the lock, the inbox claim and the reads, sent
 * together) → the domain decides → write what it decided, its event included, as one statement sent
 * with the COMMIT. Round trips are the cost of a step, so a step takes two, and the steps of the
 * order events that arrive together share them (`applyStockSteps`). The lock serialises one order's
 * create and cancel, whichever arrives first. Products are not locked while the step decides: the
 * stock is taken relative to the row, and the CHECK (stock >= 0) refuses a write that would oversell.
 * The write's round trip first locks the products it changes, in id order (`productsLock`): two
 * steps that share products then wait for each other instead of deadlocking (an UPDATE … FROM
 * unnest locks rows in whatever order its plan meets them, and Postgres broke such deadlocks only
 * after a second's wait).
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
  return againIfRaceLost(() => applyStep(db, { kind: 'reserve', ...order, cause }));
}

/** One saga step on its own: a batch of one (`applyStockSteps`), the same statements and round trips. */
async function applyStep(db: Db, step: StockStep): Promise<HandlerOutcome> {
  const [outcome] = await applyStockSteps(db, [step]);
  return outcome!;
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
  if (decision.kind === 'reserve')
    return [
      stockChange(tx, decision.lines, 'take'),
      reservationInsert(tx, orderId, { status: 'reserved', items: decision.lines }),
      inventoryEventWrite(tx, cause, {
        type: 'StockReserved',
        orderId,
        sequence: 1,
        data: { order_id: orderId, items: decision.lines },
      }),
    ];
  return [
    reservationInsert(tx, orderId, { status: 'rejected', items: lines }),
    inventoryEventWrite(tx, cause, {
      type: 'StockReservationFailed',
      orderId,
      sequence: 1,
      data: { order_id: orderId, reason: decision.reason, shortages: decision.shortages },
    }),
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
  return againIfRaceLost(() => applyStep(db, { kind: 'release', orderId, cause }));
}

/**
 * What a cancel writes once it has read the reservation: the stock given back, the reservation
 * released and StockReleased; the tombstone when it came before its create; 'ignored' when there is
 * nothing to release (already released, rejected, or shipped).
 */
function releaseWrites(
  tx: Db,
  orderId: number,
  reservation: Reservation | undefined,
  cause: SagaCause,
): Statement[] | 'ignored' {
  const decision = decideRelease(reservation);
  if (decision.kind === 'none') return 'ignored';
  if (decision.kind === 'tombstone')
    return [reservationInsert(tx, orderId, { status: 'cancelled_before_create', items: [] })];
  return [
    stockChange(tx, decision.lines, 'give back'),
    reservationStatusUpdate(tx, orderId, 'released'),
    inventoryEventWrite(tx, cause, {
      type: 'StockReleased',
      orderId,
      sequence: 2,
      data: { order_id: orderId, items: decision.lines },
    }),
  ];
}

/** An order event as the saga step it calls for, for a batch (`applyStockSteps`). */
export type StockStep =
  | { kind: 'reserve'; orderId: number; items: StockLine[]; cause: SagaCause }
  | { kind: 'release'; orderId: number; cause: SagaCause }
  /** A status change with no effect on stock: the inbox alone records it. */
  | { kind: 'record'; orderId: number; cause: SagaCause };

/**
 * The saga steps of the order events that arrived together, in ONE transaction and one commit
 * (platform's `inTransactionOnceEach`): each step's claim, lock, read and writes are those of its
 * single form above, one order's steps in the order given. The products a round of the batch changes
 * are locked in id order just before its writes (`productsLock`), so two batches of one round each
 * never deadlock on them. A batch with two events of one order has two rounds, each locking its own
 * products; such a batch can still meet another transaction in a circle (Postgres breaks it after
 * `deadlock_timeout`, the batch is taken again one event at a time): rare, since an order's create and
 * cancel seldom arrive together.
 *
 * All or nothing: a step that fails fails the batch, and the consumer then takes its events one
 * at a time. That includes a lost race for stock: the steps of a round all read the stock before
 * any of them writes, so two reservations in one batch for the last units both decide to reserve,
 * the CHECK refuses the second, and one at a time the second is then rejected.
 */
export async function applyStockSteps(db: Db, steps: readonly StockStep[]): Promise<HandlerOutcome[]> {
  const ignored = new Set<StockStep>();
  const changes = new Map<StockStep, readonly StockLine[]>();
  const outcomes = await inTransactionOnceEach(db, steps, {
    claim: (step) => step.cause,
    advisoryLock: (step) => orderLock(step.orderId),
    load: (tx, step) => {
      if (step.kind === 'reserve')
        return reservationLoadQuery(
          tx,
          step.orderId,
          consolidateLines(step.items).map((line) => line.product_id),
        );
      return step.kind === 'release' ? reservationQuery(tx, step.orderId) : undefined;
    },
    write: (tx, step, rows) => {
      const writes = stepWrites(tx, step, rows, changes);
      if (writes === 'ignored') ignored.add(step);
      return { writes: writes === 'ignored' ? [] : writes };
    },
    lockRows: (tx, writing) => {
      const productIds = new Set(
        writing.flatMap((step) => (changes.get(step) ?? []).map((line) => line.product_id)),
      );
      return productIds.size > 0 ? productsLock(tx, [...productIds]) : undefined;
    },
  });
  return outcomes.map((outcome, index) =>
    outcome === 'duplicate' ? 'duplicate' : ignored.has(steps[index]!) ? 'ignored' : 'applied',
  );
}

/**
 * A batched step's writes, as its single form decides them. The lines whose stock they may change go
 * in `changes`, to be locked first (a reservation's even when it is rejected: a few rows locked for
 * nothing, rather than deciding twice).
 */
function stepWrites(
  tx: Db,
  step: StockStep,
  rows: readonly unknown[],
  changes: Map<StockStep, readonly StockLine[]>,
): Statement[] | 'ignored' {
  if (step.kind === 'record') return 'ignored';
  if (step.kind === 'release') {
    const reservation = readReservation(rows as { status: string; items: unknown }[]);
    if (reservation?.status === 'reserved') changes.set(step, reservation.items);
    return releaseWrites(tx, step.orderId, reservation, step.cause);
  }
  const { recorded, stock } = readReservationLoad(
    rows as { product_id: number; stock: number | null; recorded: unknown }[],
  );
  // A reservation, a rejection, or the tombstone of a cancel that came first: this order is decided.
  if (recorded) return 'ignored';
  const lines = consolidateLines(step.items);
  changes.set(step, lines);
  return reservationWrites(tx, step.orderId, lines, stock, step.cause);
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
 * The outbox write of an inventory event about one order's reservation, caused by `cause`.
 * `buildEvent` checks the payload against its contract, so an invalid event fails the step before
 * anything is written instead of reaching consumers.
 */
function inventoryEventWrite<T extends EventType>(
  tx: Db,
  cause: SagaCause,
  input: Pick<BuildEventInput<T>, 'type' | 'data' | 'sequence'> & { orderId: number },
): Statement {
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
  return outboxWrite(tx, [event as AnyEvent], { aggregateType: AGGREGATE_TYPE });
}
