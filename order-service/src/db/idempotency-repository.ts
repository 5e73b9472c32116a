import type { Pool } from './pg-pool';

export type ClaimResult =
  | { kind: 'claimed' }
  | { kind: 'replay'; status: number; body: unknown }
  | { kind: 'in_flight' }
  | { kind: 'reused' };

/**
 * Idempotency-Key claims for POST /orders (SPEC §4). A request first claims (user, key) with an
 * INSERT — the primary key lets exactly one concurrent request win — and only then does any work;
 * the winner stores its response in the same statement as the order (see `createOrderWriter`), so
 * a replay returns exactly what was committed. A claim left `in_flight` by a crashed request can be
 * taken over after `ttlMs`.
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
    const taken = await pool.query({
      name: 'idempotency_take_over',
      text: `UPDATE idempotency_keys SET created_at = now()
              WHERE user_id = $1 AND key = $2 AND status = 'in_flight'
                AND created_at < now() - make_interval(secs => $3::float8)`,
      values: [userId, key, ttlMs / 1000],
    });
    return taken.rowCount === 1 ? { kind: 'claimed' } : { kind: 'in_flight' };
  }

  return {
    async claim(userId: number, key: string, requestHash: string): Promise<ClaimResult> {
      for (let attempt = 0; attempt < 3; attempt++) {
        const inserted = await pool.query({
          name: 'idempotency_claim',
          text: `INSERT INTO idempotency_keys (user_id, key, request_hash, status)
                 VALUES ($1, $2, $3, 'in_flight') ON CONFLICT DO NOTHING`,
          values: [userId, key, requestHash],
        });
        if (inserted.rowCount === 1) return { kind: 'claimed' };
        const existing = await inspect(userId, key, requestHash);
        if (existing) return existing;
        // The claim was released between our INSERT and SELECT: try again.
      }
      return { kind: 'in_flight' };
    },

    /** Gives a claim back after a failure that changed nothing, so the client may retry with the key. */
    async release(userId: number, key: string): Promise<void> {
      await pool.query({
        name: 'idempotency_release',
        text: `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status = 'in_flight'`,
        values: [userId, key],
      });
    },
  };
}

export type IdempotencyRepository = ReturnType<typeof createIdempotencyRepository>;
