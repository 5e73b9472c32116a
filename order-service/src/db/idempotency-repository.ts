import type { Pool } from './pg-pool';

export type ClaimResult =
  | { kind: 'claimed'; token: string }
  | { kind: 'replay'; status: number; body: unknown }
  /** `freeInMs`: how long until the claim may be taken over (the `Retry-After` of the 409). */
  | { kind: 'in_flight'; freeInMs: number }
  | { kind: 'reused' };

/**
 * Idempotency-Key claims for POST /orders (SPEC §4). A request first claims (user, key) with an
 * INSERT — the primary key lets exactly one concurrent request win — and only then does any work;
 * the winner stores its response in the same statement as the order (see `createOrderWriter`), so
 * a replay returns exactly what was committed.
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
export function createIdempotencyRepository(pool: Pool, requestDeadlineMs: number) {
  async function inspect(userId: number, key: string, requestHash: string): Promise<ClaimResult | undefined> {
    const { rows } = await pool.query<{
      request_hash: string;
      status: string;
      response_status: number | null;
      response_body: unknown;
      token: string;
      free_in_ms: number;
    }>({
      name: 'idempotency_inspect',
      text: `SELECT request_hash, status, response_status, response_body, created_at::text AS token,
                    (extract(epoch FROM created_at - clock_timestamp()) * 1000 + $3::float8)::float8 AS free_in_ms
               FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
      values: [userId, key, requestDeadlineMs],
    });
    const row = rows[0];
    if (!row) return undefined;
    if (row.request_hash !== requestHash) return { kind: 'reused' };
    if (row.status === 'done')
      return { kind: 'replay', status: row.response_status ?? 200, body: row.response_body };
    if (row.free_in_ms > 0) return { kind: 'in_flight', freeInMs: row.free_in_ms };
    // Older than a deadline: take over exactly the claim just read (its token), if it is still that
    // one and still in flight. The UPDATE waits for a write holding the row and re-reads it then: a
    // write that completed the claim meanwhile wins, and the next attempt replays its response.
    const taken = await pool.query<{ token: string }>({
      name: 'idempotency_take_over',
      text: `UPDATE idempotency_keys SET created_at = clock_timestamp()
              WHERE user_id = $1 AND key = $2 AND status = 'in_flight' AND created_at = $3::timestamptz
             RETURNING created_at::text AS token`,
      values: [userId, key, row.token],
    });
    return taken.rows[0] ? { kind: 'claimed', token: taken.rows[0].token } : undefined;
  }

  return {
    /** The longest a POST /orders may take, and so the longest a claim lasts. */
    requestDeadlineMs,

    async claim(userId: number, key: string, requestHash: string): Promise<ClaimResult> {
      for (let attempt = 0; attempt < 3; attempt++) {
        const inserted = await pool.query<{ token: string }>({
          name: 'idempotency_claim',
          text: `INSERT INTO idempotency_keys (user_id, key, request_hash, status, created_at)
                 VALUES ($1, $2, $3, 'in_flight', clock_timestamp()) ON CONFLICT DO NOTHING
                 RETURNING created_at::text AS token`,
          values: [userId, key, requestHash],
        });
        if (inserted.rows[0]) return { kind: 'claimed', token: inserted.rows[0].token };
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
      await pool.query({
        name: 'idempotency_release',
        text: `DELETE FROM idempotency_keys
                WHERE user_id = $1 AND key = $2 AND status = 'in_flight' AND created_at = $3::timestamptz`,
        values: [claim.userId, claim.key, claim.token],
      });
    },
  };
}

/** A claim this request holds: whose key, and the token that says it is still this request's. */
export interface IdempotencyClaim {
  userId: number;
  key: string;
  token: string;
}

export type IdempotencyRepository = ReturnType<typeof createIdempotencyRepository>;
