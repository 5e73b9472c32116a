import { createHash } from 'node:crypto';
import type { Order, OrderLine } from '@shop/contracts';
import { AppError, inTransaction, outboxWrite, scheduleWrite, writeAll, type Database } from '@shop/platform';
import type { IdempotencyClaim, IdempotencyRepository } from '../db/idempotency-repository';
import { orderWrites, reserveIds } from '../db/order-store';
import type { Actor } from '../domain/order-permissions';
import { newOrder } from '../domain/order-snapshot';
import { exceedsMaxAmount, priceOrder } from '../domain/pricing';
import { retryAfterSeconds, timeLeftMs } from '../domain/request-deadline';
import { findShortages } from '../domain/stock-check';
import type { ProductCatalogue } from '../http-clients/product-client';
import type { DB } from '../generated/database';
import { orderEvents, type EventContext } from '../messaging/order-events';

/** Our Idempotency-Key claim was taken over (after the deadline) while we worked: roll back, write nothing. */
export class IdempotencyClaimLost extends Error {}

export interface PlaceOrderDeps {
  db: Database<DB>;
  catalogue: ProductCatalogue;
  idempotency: IdempotencyRepository;
  /** A monotonic clock in milliseconds (tests move it by hand). Default: `performance.now`. */
  now?: () => number;
  /** ORDER_PENDING_TTL: seconds after which an order still pending is cancelled. Default 900. */
  pendingTtlSeconds?: number;
}

const DEFAULT_PENDING_TTL_SECONDS = 900;

export interface PlaceOrderCommand {
  actor: Actor;
  items: OrderLine[];
  idempotencyKey?: string;
  context: EventContext;
}

export type PlaceOrderResult =
  { replayed: false; status: 201; order: Order } | { replayed: true; status: number; body: unknown };

/**
 * Places an order (SPEC §4): claim the Idempotency-Key, fetch the products in one batch call,
 * reject unknown products and quantities above stock, snapshot name and price, price it exactly,
 * reserve the ids, then write order + items + OrderCreated outbox row (+ the idempotent response)
 * in ONE statement — with an Idempotency-Key inside a transaction, which commits only while the
 * claim is still this request's.
 *
 * All of it within the request deadline (ORDER_REQUEST_DEADLINE_MS): the product call gets only
 * what is left of it, and a request that runs out gives up without writing and frees its key.
 */
export async function placeOrder(
  deps: PlaceOrderDeps,
  command: PlaceOrderCommand,
): Promise<PlaceOrderResult> {
  const { actor, items, idempotencyKey } = command;
  const now = deps.now ?? (() => performance.now());
  // Counted from before the claim, so it ends before the database (which counts from the claim's
  // own, later, created_at) lets a retry take the claim over.
  const deadline = now() + deps.idempotency.requestDeadlineMs;
  let claim: IdempotencyClaim | undefined;
  if (idempotencyKey) {
    const claimed = await deps.idempotency.claim(actor.userId, idempotencyKey, requestHash(items));
    if (claimed.kind === 'reused') {
      throw new AppError(
        422,
        'idempotency_key_reused',
        'This Idempotency-Key was already used with a different request body.',
      );
    }
    if (claimed.kind === 'in_flight') throw requestInFlight(claimed.freeInMs);
    if (claimed.kind === 'replay') return { replayed: true, status: claimed.status, body: claimed.body };
    claim = { userId: actor.userId, key: idempotencyKey, token: claimed.token };
  }

  try {
    if (timeLeftMs(deadline, now()) === 0) throw deadlineSpentInDatabase();
    const products = await deps.catalogue.getProducts(
      items.map((line) => line.product_id),
      { timeoutMs: timeLeftMs(deadline, now()) },
    );
    if (timeLeftMs(deadline, now()) === 0) throw productsAnsweredTooLate();
    const byId = new Map(products.map((product) => [product.id, product]));
    const shortages = findShortages(
      items.map((line) => ({ productId: line.product_id, quantity: line.quantity })),
      new Map(products.map((product) => [product.id, product.stock])),
    );
    if (shortages.length > 0) {
      throw new AppError(
        400,
        'insufficient_stock',
        `Not enough stock for product ${shortages.map((s) => s.product_id).join(', ')}.`,
        {
          extra: { shortages },
        },
      );
    }
    const priced = priceOrder(
      items.map((line) => {
        const product = byId.get(line.product_id)!;
        return {
          productId: product.id,
          productName: product.name,
          unitPrice: product.price,
          quantity: line.quantity,
        };
      }),
    );
    if (exceedsMaxAmount(priced)) {
      throw new AppError(422, 'validation_error', 'The order total is larger than an order may be.', {
        errors: [
          { path: 'items', message: `the total ${priced.totalAmount} exceeds the maximum order amount` },
        ],
      });
    }

    // Ids and the database's clock first (one round trip, no transaction), so the order and its
    // OrderCreated are built whole before anything is written and nothing is read back after.
    const order = newOrder(actor.userId, priced, await reserveIds(deps.db, priced.lines.length));
    const created = orderEvents.created(order, command.context);
    // Its expiry timer is written with it, timed from its creation on the database's clock.
    const ttlMs = (deps.pendingTtlSeconds ?? DEFAULT_PENDING_TTL_SECONDS) * 1000;
    const expiresAt = new Date(Date.parse(order.created_at) + ttlMs);
    const expiry = orderEvents.expiryDue(created, expiresAt);
    const writes = (tx: Database<DB>) => [
      ...orderWrites.placement(tx, order),
      outboxWrite(tx, [created], { aggregateType: 'order' }),
      scheduleWrite(tx, [expiry], { aggregateType: 'order_timer', deliverAt: expiresAt }),
    ];
    if (!claim) {
      // One statement writes the order, its items and its event: atomic by itself, and nothing
      // depends on its result, so no transaction around it.
      await writeAll(deps.db, writes(deps.db));
    } else {
      // The clock is not checked again after pricing, and need not be: the transaction commits only
      // while the claim still carries this request's token, and a take-over (possible once the
      // claim is a deadline old) changes that token. Postgres orders the two on the claim row: a
      // write that holds the row first commits, and the take-over then finds the claim done and
      // replays it; a take-over that commits first makes the waiting completion re-read the row,
      // miss its token and update nothing — IdempotencyClaimLost rolls the order back (409). A
      // write that runs late can therefore never make a second order — and if nobody took the
      // claim over, its late commit is the one order a retry replays. (Both orders of events are
      // tested in test/integration/idempotency-after-crash.int.test.ts.)
      const ours = claim;
      await inTransaction(deps.db, async (tx) => {
        const completed = await writeAll(tx, writes(tx), deps.idempotency.completion(tx, ours, order));
        if (completed.length === 0) {
          throw new IdempotencyClaimLost(`idempotency claim ${ours.key} of user ${ours.userId} was lost`);
        }
      });
    }
    return { replayed: false, status: 201, order };
  } catch (error) {
    // Nothing was written (the statement failed, the transaction rolled back, or neither began):
    // give the key back so the client can retry the same request. (A failing release must not hide the error that matters.)
    // Should a COMMIT whose answer was lost have gone through, the claim is done and stays.
    if (claim) await deps.idempotency.release(claim).catch(() => undefined);
    // Taken over after the deadline while this request was slow: the key is another request's now.
    if (error instanceof IdempotencyClaimLost) throw requestInFlight(deps.idempotency.requestDeadlineMs);
    throw error;
  }
}

/** 409 with when the claim may be taken over at the latest (it is free earlier if its request ends). */
const requestInFlight = (freeInMs: number) =>
  new AppError(
    409,
    'idempotency_request_in_flight',
    'A request with this Idempotency-Key is still being processed.',
    {
      headers: { 'Retry-After': String(retryAfterSeconds(freeInMs)) },
    },
  );

const deadlineSpentInDatabase = () =>
  new AppError(
    503,
    'database_unavailable',
    'The database took the whole request deadline; nothing was written. Retry the request.',
    // As for a lost connection (platform): a database this slow is usually failing over.
    { headers: { 'Retry-After': '2' } },
  );

const productsAnsweredTooLate = () =>
  new AppError(
    504,
    'product_service_timeout',
    'The product service answered after the request deadline; nothing was written.',
  );

/** The request's fingerprint for Idempotency-Key reuse detection: the validated body, canonically. */
export function requestHash(items: readonly OrderLine[]): string {
  const canonical = JSON.stringify(items.map((line) => [line.product_id, line.quantity]));
  return createHash('sha256').update(canonical).digest('hex');
}
