import { claimStatement, transactionOpening, type InboxClaim } from '@shop/platform';
import type { CompiledQuery } from 'kysely';
import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { percentiles, type Percentiles } from '../stats';

/**
 * One message's transaction as a service's `inTransactionOnce` sends it, on a raw `pg` client in
 * pipeline mode (`createPgPool`), with the service's own statement texts:
 *   round trip 1: the opening (BEGIN; the advisory lock; the `shop_inbox_claim` call) as one simple
 *                 query, and the load right behind it as a prepared statement;
 *   round trip 2: the writes (each one statement, `oneStatement`) as prepared statements and COMMIT.
 * A message that is not claimed commits the claim's empty transaction, as the service does.
 * What a raw baseline leaves out is everything around the SQL: the broker, decoding, Kysely, logs.
 */
export async function inboxTransaction<Row extends QueryResultRow>(
  client: PoolClient,
  opening: {
    lock: readonly [number, number];
    claim: InboxClaim;
    load: CompiledQuery<Row>;
    /** The claim's text as the service sends it: `claimStatement` (default), or `claimsStatement` of one for a service that sends each message as a batch of one. */
    claimText?: (claim: InboxClaim) => string;
  },
  /** The writes for what was loaded, sent together; none when nothing is to be written (the service's 'ignored'). */
  decide: (rows: Row[]) => CompiledQuery[],
): Promise<'applied' | 'ignored' | 'duplicate' | 'early'> {
  try {
    const claimText = opening.claimText ?? claimStatement;
    const [opened, loaded] = await settled([
      client.query(transactionOpening(opening.lock, [claimText(opening.claim)])),
      client.query<Row>(prepared(opening.load)),
    ]);
    // A multi-statement simple query answers with each statement's result; the claim's is the last.
    const claim = (opened as unknown as QueryResult[]).at(-1)!.rows[0] as {
      claimed: boolean;
      in_order: boolean;
      seen: boolean;
    };
    if (!claim.claimed) {
      // Came before its turn: nothing was written; the service rolls back and tries again later.
      if (!claim.seen && !claim.in_order) {
        await client.query('ROLLBACK');
        return 'early';
      }
      await client.query('COMMIT');
      return 'duplicate';
    }
    const writes = decide(loaded.rows);
    await settled([...writes.map((write) => client.query(prepared(write))), client.query('COMMIT')]);
    return writes.length > 0 ? 'applied' : 'ignored';
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Waits for every query sent together (each one's rejection handled), then throws the first error. */
async function settled<T extends unknown[]>(queries: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const answers = await Promise.allSettled(queries);
  for (const answer of answers) if (answer.status === 'rejected') throw answer.reason;
  return answers.map((answer) => (answer as PromiseFulfilledResult<unknown>).value) as T;
}

const names = new Map<string, string>();

/**
 * A compiled statement as the services run it: a named prepared statement, parsed once per
 * connection (platform's database.ts does the same for every parameterised statement).
 */
function prepared(query: CompiledQuery) {
  let name = names.get(query.sql);
  if (name === undefined) names.set(query.sql, (name = `bench_${names.size + 1}`));
  return { name, text: query.sql, values: [...query.parameters] };
}

/**
 * Handles every item in order with `concurrency` of them in flight, each worker on a connection of
 * its own: a baseline's messages as a service's prefetch window takes them. Returns the wall time of
 * the whole and each item's latency.
 */
export async function eachInFlight<T>(
  pool: Pool,
  items: readonly T[],
  concurrency: number,
  handle: (client: PoolClient, item: T) => Promise<void>,
): Promise<{ seconds: number; latency: Percentiles }> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    const client = await pool.connect();
    try {
      while (next < items.length) {
        const begin = performance.now();
        await handle(client, items[next++]);
        latencies.push(performance.now() - begin);
      }
    } finally {
      client.release();
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return { seconds: (performance.now() - started) / 1000, latency: percentiles(latencies) };
}
