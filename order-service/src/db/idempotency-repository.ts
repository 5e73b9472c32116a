import type { Prisma as P } from '../generated/prisma/client';
import type { Tx } from './order-repository';
import type { Prisma } from './prisma';

export type ClaimResult =
  | { kind: 'claimed' }
  | { kind: 'replay'; status: number; body: unknown }
  | { kind: 'in_flight' }
  | { kind: 'reused' };

/**
 * Idempotency-Key claims for POST /orders (SPEC §4). A request first claims (user, key) with an
 * INSERT — the primary key lets exactly one concurrent request win — and only then does any work;
 * the winner stores its response in the same transaction as the order, so a replay returns exactly
 * what was committed. A claim left `in_flight` by a crashed request can be taken over after `ttlMs`.
 */
export function createIdempotencyRepository(prisma: Prisma, ttlMs: number) {
  async function inspect(userId: number, key: string, requestHash: string): Promise<ClaimResult | undefined> {
    const row = await prisma.idempotencyKey.findUnique({ where: { userId_key: { userId, key } } });
    if (!row) return undefined;
    if (row.requestHash !== requestHash) return { kind: 'reused' };
    if (row.status === 'done')
      return { kind: 'replay', status: row.responseStatus ?? 200, body: row.responseBody };
    const taken = await prisma.$executeRaw`
      UPDATE idempotency_keys SET created_at = now()
       WHERE user_id = ${userId} AND key = ${key} AND status = 'in_flight'
         AND created_at < now() - make_interval(secs => ${ttlMs / 1000}::float8)`;
    return taken === 1 ? { kind: 'claimed' } : { kind: 'in_flight' };
  }

  return {
    async claim(userId: number, key: string, requestHash: string): Promise<ClaimResult> {
      for (let attempt = 0; attempt < 3; attempt++) {
        const inserted = await prisma.$executeRaw`
          INSERT INTO idempotency_keys (user_id, key, request_hash, status)
          VALUES (${userId}, ${key}, ${requestHash}, 'in_flight')
          ON CONFLICT DO NOTHING`;
        if (inserted === 1) return { kind: 'claimed' };
        const existing = await inspect(userId, key, requestHash);
        if (existing) return existing;
        // The claim was released between our INSERT and SELECT: try again.
      }
      return { kind: 'in_flight' };
    },

    /** Gives a claim back after a failure that changed nothing, so the client may retry with the key. */
    async release(userId: number, key: string): Promise<void> {
      await prisma.idempotencyKey.deleteMany({ where: { userId, key, status: 'in_flight' } });
    },

    /** Stores the response inside the order's transaction. */
    async complete(
      tx: Tx,
      claim: { userId: number; key: string },
      response: { status: number; body: unknown; orderId: number },
    ): Promise<void> {
      const { count } = await tx.idempotencyKey.updateMany({
        where: { userId: claim.userId, key: claim.key, status: 'in_flight' },
        data: {
          status: 'done',
          responseStatus: response.status,
          responseBody: response.body as P.InputJsonValue,
          orderId: response.orderId,
        },
      });
      // Our claim is gone (taken over after the TTL): roll the order back rather than answer twice.
      if (count !== 1) throw new Error(`idempotency claim ${claim.key} of user ${claim.userId} was lost`);
    },
  };
}

export type IdempotencyRepository = ReturnType<typeof createIdempotencyRepository>;
