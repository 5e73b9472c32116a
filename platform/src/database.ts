import { Kysely, PostgresDialect, sql, type PostgresPool } from 'kysely';
import type { Pool, PoolClient } from 'pg';

/**
 * The one persistence path of every service: Kysely, a typed query builder, over platform's `pg`
 * pool (`createPgPool`). A service's table types are generated from its `schema.prisma`
 * (`npm run generate`, the prisma-kysely generator), so the schema stays the single description of
 * the tables and a query that names a missing column does not compile. Decision 27 (docs/decisions.md)
 * has the measurement behind the choice.
 */
export type Database<Tables> = Kysely<Tables>;

/** A Kysely instance over `pool`; `db.destroy()` ends the pool. */
export function createDatabase<Tables>(pool: Pool): Database<Tables> {
  return new Kysely<Tables>({ dialect: new PostgresDialect({ pool: listeningPool(pool) }) });
}

const listening = new WeakSet<PoolClient>();

/**
 * `pool` as Kysely borrows from it, with an 'error' listener on every client it hands out. The
 * pool listens only while a client is idle, and Kysely awaits `pool.connect()`, so it would get
 * the client a microtask after the pool let go — after the rest of the socket's buffer, which may
 * hold the server's FATAL, was parsed: an unhandled 'error' that ends the process. The callback
 * form resolves in the same tick the pool lets go. The error still reaches the transaction:
 * node-postgres fails its queries, and the pool discards the dead client on release.
 * (`createPgPool` listens on every client anyway; this covers any other pool.)
 */
function listeningPool(pool: Pool): PostgresPool {
  return {
    connect: () =>
      new Promise<PoolClient>((resolve, reject) =>
        pool.connect((error, client) => {
          if (error || !client) return reject(error ?? new Error('the pool handed out no client'));
          if (!listening.has(client)) {
            listening.add(client);
            client.on('error', () => undefined);
          }
          resolve(client);
        }),
      ),
    end: () => pool.end(),
  };
}

const INT4 = (value: number) => Number.isInteger(value) && value >= -2_147_483_648 && value <= 2_147_483_647;

/**
 * Runs `work` in one transaction on one connection and commits, or rolls back on any failure.
 * A connection lost mid-way rejects with the driver's error (which `isDatabaseUnavailable`
 * recognises) and is discarded by the pool, never pooled again.
 *
 * With `advisoryLock`, the transaction first takes `pg_advisory_xact_lock(a, b)` in the same round
 * trip as BEGIN, so every later statement's snapshot sees what the previous holder committed. That
 * is how "one order at a time" is held for a row that may not exist yet (a saga step for an order
 * whose reservation is not written). The keys are checked integers written inline, because a
 * multi-statement query takes no parameters.
 */
export async function inTransaction<Tables, T>(
  db: Database<Tables>,
  work: (tx: Database<Tables>) => Promise<T>,
  options: { advisoryLock?: readonly [number, number] } = {},
): Promise<T> {
  const lock = options.advisoryLock;
  if (lock && !lock.every(INT4)) throw new TypeError(`advisory lock keys must be int4: ${lock.join(', ')}`);
  const begin = lock ? `BEGIN; SELECT pg_advisory_xact_lock(${lock[0]}, ${lock[1]})` : 'BEGIN';
  // Kysely's own `db.transaction()` would spend a round trip on BEGIN and another on the lock;
  // this is the same thing on one pinned connection, with BEGIN and the lock sent together.
  return db.connection().execute(async (tx) => {
    await sql.raw(begin).execute(tx);
    try {
      const result = await work(tx);
      await sql.raw('COMMIT').execute(tx);
      return result;
    } catch (error) {
      // A connection that cannot even roll back is dead; the pool discards it on release.
      await sql
        .raw('ROLLBACK')
        .execute(tx)
        .catch(() => undefined);
      throw error;
    }
  });
}
