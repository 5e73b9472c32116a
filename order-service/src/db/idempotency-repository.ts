import type { Order } from '@shop/contracts';
import type { Database, Statement } from '@shop/platform';
import { sql, type ExpressionBuilder } from 'kysely';
import type { DB } from '../generated/database';

export type ClaimResult =
  | { kind: 'claimed'; token: string }
  | { kind: 'replay'; status: number; body: unknown }
  /** `freeInMs`: how long until the claim may be taken over (the `Retry-After` of the 409). */
  | { kind: 'in_flight'; freeInMs: number }
  | { kind: 'reused' };

/** A claim this request holds: whose key, and the token that says it is still this request's. */
export interface IdempotencyClaim {
  userId: number;
  key: string;
  token: string;
}

/**
 * The claim's token: its `created_at` as Postgres writes it in text, to the microsecond. A JS Date
 * keeps only milliseconds, so the token never passes through one: it is read as text and compared
 * by casting it back in the database (`isClaim`).
 */
const token = sql<string>`created_at::text`.as('token');
/** The database's clock now, not the transaction's start: a take-over must get a new, later token. */
const clockNow = sql<Date>`clock_timestamp()`;

/** How long until a claim may be taken over, by the clock its `created_at` was taken by: the database's. */
const freeInMs = (deadlineMs: number) =>
  sql<number>`(extract(epoch FROM created_at - clock_timestamp()) * 1000 + ${deadlineMs}::float8)::float8`.as(
    'free_in_ms',
  );

/** The claim row `claim` names, if it is still in flight under that token. */
const isClaim = (claim: IdempotencyClaim) => (eb: ExpressionBuilder<DB, 'idempotency_keys'>) =>
  eb.and([
    eb('user_id', '=', claim.userId),
    eb('key', '=', claim.key),
    eb('status', '=', 'in_flight'),
    eb('created_at', '=', sql<Date>`${claim.token}::timestamptz`),
  ]);

/**
 * Idempotency-Key claims for POST /orders (SPEC §4). A request first claims (user, key) with an
 * INSERT — the primary key lets exactly one concurrent request win — and only then does any work;
 * the winner marks the claim done with its response in the order's own statement (`completion`),
 * so a replay returns exactly what was committed.
 *
 * A claim lives as long as the request deadline (`requestDeadlineMs`, ORDER_REQUEST_DEADLINE_MS,
 * by the database's clock from the claim's `created_at`). Until then the key is in flight (409,
 * told when it will be free); after it, a retry takes the claim over — the request that made it
 * has given up by then (place-order stops at its deadline) or died with its process (SIGKILL, a
 * lost host), so a client waits at most one deadline for a definite answer.
 *
 * Every claim carries a token — the claim's own `created_at`, which a take-over moves — and a
 * request releases or completes only the claim its token names: a slow request whose claim was
 * taken over can neither free the key under the new owner nor complete over it.
 */
export function createIdempotencyRepository(db: Database<DB>, requestDeadlineMs: number) {
  async function inspect(userId: number, key: string, requestHash: string): Promise<ClaimResult | undefined> {
    const row = await db
      .selectFrom('idempotency_keys')
      .select([
        'request_hash',
        'status',
        'response_status',
        'response_body',
        token,
        freeInMs(requestDeadlineMs),
      ])
      .where('user_id', '=', userId)
      .where('key', '=', key)
      .executeTakeFirst();
    if (!row) return undefined;
    if (row.request_hash !== requestHash) return { kind: 'reused' };
    if (row.status === 'done')
      return { kind: 'replay', status: row.response_status ?? 200, body: row.response_body };
    if (row.free_in_ms > 0) return { kind: 'in_flight', freeInMs: row.free_in_ms };
    // Older than a deadline: take over exactly the claim just read (its token), if it is still that
    // one and still in flight. The UPDATE waits for a write holding the row and re-reads it then: a
    // write that completed the claim meanwhile wins, and the next attempt replays its response.
    const taken = await db
      .updateTable('idempotency_keys')
      .set({ created_at: clockNow })
      .where(isClaim({ userId, key, token: row.token }))
      .returning(token)
      .executeTakeFirst();
    return taken ? { kind: 'claimed', token: taken.token } : undefined;
  }

  return {
    /** The longest a POST /orders may take, and so the longest a claim lasts. */
    requestDeadlineMs,

    async claim(userId: number, key: string, requestHash: string): Promise<ClaimResult> {
      for (let attempt = 0; attempt < 3; attempt++) {
        const inserted = await db
          .insertInto('idempotency_keys')
          .values({
            user_id: userId,
            key,
            request_hash: requestHash,
            status: 'in_flight',
            created_at: clockNow,
          })
          .onConflict((conflict) => conflict.doNothing())
          .returning(token)
          .executeTakeFirst();
        if (inserted) return { kind: 'claimed', token: inserted.token };
        const existing = await inspect(userId, key, requestHash);
        if (existing) return existing;
        // Released, completed or taken over between our statements: look again.
      }
      return { kind: 'in_flight', freeInMs: requestDeadlineMs };
    },

    /**
     * Gives a claim back after a failure that changed nothing, so the client may retry with the
     * key — only the claim `token` names: one taken over meanwhile belongs to another request.
     */
    async release(claim: IdempotencyClaim): Promise<void> {
      await db.deleteFrom('idempotency_keys').where(isClaim(claim)).execute();
    },

    /**
     * The UPDATE that marks the claim done with the response a replay will return, built but not
     * run: the order's `writeAll` sends it with the order's own writes, inside the order's
     * transaction. It returns a row only while the claim is still this request's; none means it
     * was taken over after the deadline, and the caller must roll back. Like the take-over, the
     * UPDATE waits for a take-over holding the row and re-reads it: whichever commits first
     * decides, and the other finds nothing to change.
     */
    completion(
      tx: Database<DB>,
      claim: IdempotencyClaim,
      order: Order,
    ): Statement<{ order_id: number | null }> {
      return tx
        .updateTable('idempotency_keys')
        .set({
          status: 'done',
          response_status: 201,
          response_body: JSON.stringify(order),
          order_id: order.id,
        })
        .where(isClaim(claim))
        .returning('order_id');
    },
  };
}

export type IdempotencyRepository = ReturnType<typeof createIdempotencyRepository>;
