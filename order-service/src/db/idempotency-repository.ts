import type { Pool } from './pg-pool';

export type ClaimResult =
  | { kind: 'claimed'; token: string }
  | { kind: 'replay'; status: number; body: unknown }
  | { kind: 'in_flight' }
  | { kind: 'reused' };

/**
 * Idempotency-Key claims for POST /orders (SPEC §4). A request first claims (user, key) with an
 * INSERT — the primary key lets exactly one concurrent request win — and only then does any work;
 * the winner stores its response in the same statement as the order (see `createOrderWriter`), so
 * a replay returns exactly what was committed. A claim left `in_flight` by a crashed request can be
 * taken over after `ttlMs`.
 *
 * Every claim carries a token — the claim's own `created_at`, which a take-over moves — and a
 * request releases or completes only the claim its token names: a slow request whose claim was
 * taken over can neither free the key under the new owner nor complete over it.
 */
export function createIdempotencyRepository(pool: Pool, ttlMs: number) {
  async function inspect(userId: number, key: string, requestHash: string): Promise<ClaimResult | undefined> {
    const { rows } = await pool.query<{
      request_hash: string;
      status: string;
      response_status: number | null;
      response_body: unknown;
    }>({
      name: 'idempotency_inspect',
      text: `SELECT request_hash, status, response_status, response_body
               FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
      values: [userId, key],
    });
    const row = rows[0];
    if (!row) return undefined;
    if (row.request_hash !== requestHash) return { kind: 'reused' };
    if (row.status === 'done')
      return { kind: 'replay', status: row.response_status ?? 200, body: row.response_body };
    const taken = await pool.query<{ token: string }>({
      name: 'idempotency_take_over',
      text: `UPDATE idempotency_keys SET created_at = clock_timestamp()
              WHERE user_id = $1 AND key = $2 AND status = 'in_flight'
                AND created_at < now() - make_interval(secs => $3::float8)
             RETURNING created_at::text AS token`,
      values: [userId, key, ttlMs / 1000],
    });
    return taken.rows[0] ? { kind: 'claimed', token: taken.rows[0].token } : { kind: 'in_flight' };
  }

  return {
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
        // The claim was released between our INSERT and SELECT: try again.
      }
      return { kind: 'in_flight' };
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
