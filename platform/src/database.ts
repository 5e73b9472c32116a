import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  sql,
  type Compilable,
  type KyselyPlugin,
  type OperationNodeSource,
  type PostgresPool,
  type PostgresPoolClient,
  type QueryCreator,
  type QueryResult,
} from 'kysely';
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
  return new Kysely<Tables>({ dialect: new PostgresDialect({ pool: borrowingPool(pool) }) });
}

/**
 * How many distinct statements are prepared, at most. Kysely writes one text per query shape (an
 * IN list or a multi-row INSERT has one per length), so the number stays small; past the cap a new
 * text simply runs unprepared, and memory on both sides stays bounded.
 */
const MAX_PREPARED_STATEMENTS = 500;
const statementNames = new Map<string, string>();

/** The prepared-statement name of a query text, the same on every connection (pg requires it). */
function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_PREPARED_STATEMENTS) {
    name = `shop_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  return name;
}

const borrowed = new WeakMap<PoolClient, PostgresPoolClient>();

/**
 * A pooled client as Kysely borrows it (the same wrapper each time, so Kysely's per-client cache holds):
 * - Its parameterised statements run as named prepared statements. Kysely sends every query unnamed,
 *   so Postgres would parse and plan each one again; the services' statements are few and repeated
 *   thousands of times a second, and preparing them cut Postgres's CPU per order (docs/decisions.md 29).
 *   A query without parameters (BEGIN, a multi-statement lock) keeps the simple protocol.
 * - It listens for 'error' for its whole life. The pool listens only while a client is idle, and a
 *   borrower that awaits `pool.connect()` gets the client a microtask after the pool let go — after
 *   the rest of the socket's buffer, which may hold the server's FATAL, was parsed: an unhandled
 *   'error' that ends the process. The error still reaches the transaction: node-postgres fails its
 *   queries, and the pool discards the dead client on release.
 */
function borrow(client: PoolClient): PostgresPoolClient {
  let wrapped = borrowed.get(client);
  if (!wrapped) {
    client.on('error', () => undefined);
    wrapped = {
      // No cursor form: the dialect is built without `cursor`, so Kysely never streams.
      query: ((text: string, parameters: readonly unknown[]) => {
        const values = [...parameters];
        const name = values.length > 0 ? statementName(text) : undefined;
        // A multi-statement simple query (a transaction's opening) answers with every statement's
        // result; Kysely reads one, and the last is the one that says something.
        return client
          .query(name ? { name, text, values } : { text, values })
          .then((result) => (Array.isArray(result) ? (result.at(-1) as typeof result) : result));
      }) as unknown as PostgresPoolClient['query'],
      release: (destroy) => client.release(destroy),
    };
    borrowed.set(client, wrapped);
  }
  return wrapped;
}

/** `pool` for Kysely: the callback form of `connect` hands the client over in the tick the pool lets go. */
function borrowingPool(pool: Pool): PostgresPool {
  return {
    connect: () =>
      new Promise<PostgresPoolClient>((resolve, reject) =>
        pool.connect((error, client) => {
          if (error || !client) return reject(error ?? new Error('the pool handed out no client'));
          resolve(borrow(client));
        }),
      ),
    end: () => pool.end(),
  };
}

const INT4 = (value: number) => Number.isInteger(value) && value >= -2_147_483_648 && value <= 2_147_483_647;

export interface TransactionOptions {
  /** Keys of `pg_advisory_xact_lock`, taken in BEGIN's round trip. */
  advisoryLock?: readonly [number, number];
}

/** What a transaction reads before it decides, and the options it opens with. */
export interface LoadingOptions<Tables, Loaded> extends TransactionOptions {
  /**
   * The reads the work decides on. They are sent right behind BEGIN (and the lock), without waiting
   * for its answer, so opening and loading cost one round trip; `work` gets what they returned.
   */
  load?: (tx: Database<Tables>) => Promise<Loaded>;
}

/** An open transaction's connection, for the statements platform sends on it itself. */
interface OpenTransaction {
  /**
   * Sends `queries` together, behind every query `tx` has queued (Kysely runs a pinned connection's
   * queries one after another): a COMMIT or ROLLBACK never overtakes a statement of the work.
   */
  sendInTurn(queries: CompiledQuery[]): Promise<PromiseSettledResult<QueryResult<unknown>>[]>;
  /** Set once COMMIT or ROLLBACK is on its way; `tx` refuses any statement after that. */
  ended: boolean;
}

/** A statement on a transaction that has ended would run on its own, outside it: refused instead. */
const refusedOnceEnded = (transaction: OpenTransaction): KyselyPlugin => ({
  transformQuery: ({ node }) => {
    if (transaction.ended)
      throw new Error('this transaction has ended; a statement sent on it now would run outside it');
    return node;
  },
  transformResult: async ({ result }) => result,
});

const openTransactions = new WeakMap<object, OpenTransaction>();

/**
 * Runs `work` in one transaction on one connection and commits, or rolls back on any failure.
 * A connection lost mid-way rejects with the driver's error (which `isDatabaseUnavailable`
 * recognises) and is discarded by the pool, never pooled again.
 *
 * With `advisoryLock`, the transaction first takes `pg_advisory_xact_lock(a, b)` in the same round
 * trip as BEGIN, so every later statement's snapshot sees what the previous holder committed. That
 * is how "one order at a time" is held for a row that may not exist yet (a saga step for an order
 * whose reservation is not written). With `load`, the reads go in that round trip too; and a work
 * that ends with `commitWith` sends its writes and the COMMIT together — so "lock and load, decide,
 * write" takes two round trips.
 */
export function inTransaction<Tables, T>(
  db: Database<Tables>,
  work: (tx: Database<Tables>) => Promise<T>,
): Promise<T>;
export function inTransaction<Tables, T, Loaded = undefined>(
  db: Database<Tables>,
  options: LoadingOptions<Tables, Loaded>,
  work: (tx: Database<Tables>, loaded: Loaded) => Promise<T>,
): Promise<T>;
export function inTransaction<Tables, T, Loaded>(
  db: Database<Tables>,
  ...args:
    | [(tx: Database<Tables>) => Promise<T>]
    | [LoadingOptions<Tables, Loaded>, (tx: Database<Tables>, loaded: Loaded) => Promise<T>]
): Promise<T> {
  const [options, work] = args.length === 1 ? [{}, args[0]] : args;
  return openTransaction(db, options, [], (tx, _opened, loaded) => work(tx, loaded as Loaded));
}

/**
 * The simple-protocol query a transaction of `openTransaction` opens with: BEGIN, the advisory lock
 * if any, then `statements`. Exported so the bench's raw baselines send the very text the services
 * send, not a copy that could drift.
 */
export function transactionOpening(
  lock: TransactionOptions['advisoryLock'],
  statements: readonly string[],
): string {
  return ['BEGIN', ...(lock ? [advisoryLockStatement(lock)] : []), ...statements].join('; ');
}

/** `pg_advisory_xact_lock(a, b)` as a statement of an opening (the keys checked: the text takes no parameters). */
export function advisoryLockStatement(lock: readonly [number, number]): string {
  if (!lock.every(INT4)) throw new TypeError(`advisory lock keys must be int4: ${lock.join(', ')}`);
  return `SELECT pg_advisory_xact_lock(${lock[0]}, ${lock[1]})`;
}

/**
 * `inTransaction` whose opening round trip also runs `statements` (after BEGIN and the lock) and
 * hands `work` the last one's result — for platform code that must know something before the work
 * starts without paying a round trip for it (`inTransactionOnce`: the inbox claim). A simple-protocol
 * query takes no parameters, so each statement's values must already be checked or escaped.
 */
export async function openTransaction<Tables, T, Loaded = undefined>(
  db: Database<Tables>,
  options: LoadingOptions<Tables, Loaded>,
  statements: readonly string[],
  work: (
    tx: Database<Tables>,
    opened: { numAffectedRows?: bigint; rows: readonly unknown[] },
    loaded: Loaded,
  ) => Promise<T>,
): Promise<T> {
  const opening = transactionOpening(options.advisoryLock, statements);
  // Kysely's own `db.transaction()` would spend a round trip on BEGIN and another on each of the
  // rest; this is the same thing on one pinned connection, with all of them sent together. Kysely
  // runs `tx`'s queries one after another; the connection underneath lets platform send a query
  // without waiting for the one before (the pool's clients are in pipeline mode, `createPgPool`).
  return db.connection().execute(async (pinned) => {
    const connection = await pinned.getExecutor().provideConnection(async (held) => held);
    const transaction: OpenTransaction = {
      ended: false,
      sendInTurn: (queries) =>
        pinned
          .getExecutor()
          .provideConnection((held) => Promise.allSettled(queries.map((query) => held.executeQuery(query)))),
    };
    const tx = pinned.withPlugin(refusedOnceEnded(transaction));
    openTransactions.set(tx, transaction);
    try {
      // Inside the try: an opening that fails after its BEGIN (a bad claim value, a lock timeout)
      // must still be rolled back, or the connection goes back to the pool inside an aborted
      // transaction. The opening goes on the connection directly (nothing is queued yet), so the
      // load is sent right behind it instead of waiting for its answer; Postgres runs them in order,
      // so the load's snapshot is taken after the lock is held.
      const [opened, loaded] = await Promise.all([
        connection.executeQuery(CompiledQuery.raw(opening)),
        (async () => (options.load ? options.load(tx) : (undefined as Loaded)))(),
      ]);
      const result = await work(tx, opened, loaded);
      if (!transaction.ended) await commit(transaction, []);
      return result;
    } catch (error) {
      // A connection that cannot even roll back is dead; the pool discards it on release. Once the
      // COMMIT was sent, the transaction is over either way (behind a failed write it rolled back).
      if (!transaction.ended) {
        transaction.ended = true;
        await transaction.sendInTurn([CompiledQuery.raw('ROLLBACK')]);
      }
      throw error;
    } finally {
      transaction.ended = true;
      openTransactions.delete(tx);
    }
  });
}

/**
 * Sends `queries` on an open transaction all together, one round trip however many (behind any
 * statement `tx` has queued), and answers each one's result; throws the first one's error. For
 * platform code that knows a round trip's statements before any answer (`inTransactionOnceEach`).
 */
export async function sendTogether<Tables>(
  tx: Database<Tables>,
  queries: readonly CompiledQuery[],
): Promise<QueryResult<unknown>[]> {
  return settledAll(
    await openTransactionOf(
      tx,
      'sendTogether needs an open transaction of inTransaction or inTransactionOnce',
    ).sendInTurn([...queries]),
  );
}

/** `sendTogether`, with COMMIT behind the last: the transaction's final round trip (see `commitWith`). */
export async function commitTogether<Tables>(
  tx: Database<Tables>,
  written: readonly CompiledQuery[],
): Promise<QueryResult<unknown>[]> {
  return commit(openTransactionOf(tx, ENDS_ONCE('commitTogether')), written);
}

/** The transaction `tx` is, if it is still open; `refusal` is thrown otherwise. */
function openTransactionOf(tx: object, refusal: string): OpenTransaction {
  const transaction = openTransactions.get(tx);
  if (!transaction || transaction.ended) throw new Error(refusal);
  return transaction;
}

const ENDS_ONCE = (caller: string) =>
  `${caller} ends a transaction of inTransaction or inTransactionOnce, once`;

function settledAll(answers: PromiseSettledResult<QueryResult<unknown>>[]): QueryResult<unknown>[] {
  for (const answer of answers) if (answer.status === 'rejected') throw answer.reason;
  return answers.map((answer) => (answer as PromiseFulfilledResult<QueryResult<unknown>>).value);
}

/**
 * Sends the COMMIT (behind `written`, the writes of the same round trip) and checks that it
 * committed: Postgres answers COMMIT with ROLLBACK when an earlier statement failed. Answers the
 * writes' results.
 */
async function commit(
  transaction: OpenTransaction,
  written: readonly CompiledQuery[],
): Promise<QueryResult<unknown>[]> {
  transaction.ended = true;
  const answers = settledAll(await transaction.sendInTurn([...written, CompiledQuery.raw('COMMIT')]));
  const tag = (answers.at(-1)!.rows[0] as { command?: string } | undefined)?.command;
  if (tag !== 'COMMIT')
    throw new Error(`the transaction did not commit (Postgres answered ${tag ?? 'nothing'})`);
  return answers.slice(0, -1);
}

/** A Kysely statement built but not run: an insert, update or delete (with `returning`, rows of `Row`). */
export type Statement<Row = unknown> = Compilable<Row> & OperationNodeSource;

/**
 * Runs writes that do not depend on one another as ONE statement, one round trip instead of one per
 * write: each becomes a data-modifying CTE, which Postgres runs exactly once and to completion, all
 * against the same snapshot — so no write sees another's rows, and two must never touch the same
 * row. Constraints (foreign keys included) are checked at the end of the statement, and any
 * failure undoes all of them. The rows of `returning` (a write with `returning(...)`, run with the
 * others) come back, e.g. whether an UPDATE still found the row it needed.
 *
 * A transaction that has decided what to change writes it here, its events included
 * (`outboxWrite`), as in `product-service/src/use-cases/stock-saga.ts`.
 */
export async function writeAll<Tables, Row = never>(
  tx: Database<Tables>,
  writes: readonly Statement[],
  returning?: Statement<Row>,
): Promise<Row[]> {
  const statement = oneStatement(tx, writes, returning);
  return statement ? ((await statement.execute()) as Row[]) : [];
}

/**
 * `writeAll`, then COMMIT, in one round trip: the last thing a transaction of `inTransaction` or
 * `inTransactionOnce` does once it has decided. The rows of `returning` come back only once the
 * transaction has committed; if the write fails, the COMMIT (already sent) rolls back instead, and
 * the write's error is thrown. Nothing may run on `tx` afterwards: it is no longer a transaction.
 */
export async function commitWith<Tables, Row = never>(
  tx: Database<Tables>,
  writes: readonly Statement[],
  returning?: Statement<Row>,
): Promise<Row[]> {
  const transaction = openTransactionOf(tx, ENDS_ONCE('commitWith'));
  // Compiled before the transaction counts as ended: `tx` refuses statements after that.
  const statement = oneStatement(tx, writes, returning)?.compile();
  const [written] = await commit(transaction, statement ? [statement] : []);
  return (written?.rows ?? []) as Row[];
}

/**
 * The writes as data-modifying CTEs of one statement (see `writeAll`); none when there is nothing to
 * write. Exported so the bench's raw baselines send the statement `writeAll` and `commitWith` send.
 */
export function oneStatement<Tables>(
  tx: Database<Tables>,
  writes: readonly Statement[],
  returning?: Statement,
): (Compilable & { execute(): Promise<unknown[]> }) | undefined {
  const all = returning ? [...writes, returning] : writes;
  if (all.length === 0) return undefined;
  // Kysely types a CTE by the database it was built on; these were built on `tx`'s, untyped here.
  let query = tx as unknown as { with(name: string, cte: () => Statement): typeof query } & QueryCreator<
    Record<string, Record<string, unknown>>
  >;
  all.forEach((write, index) => (query = query.with(`write_${index}`, () => write)));
  return returning
    ? query.selectFrom(`write_${all.length - 1}`).selectAll()
    : query.selectNoFrom(sql<number>`1`.as('written'));
}
