import {
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type QueryResult,
} from 'kysely';
import type { Database } from '@shop/platform';
import type { DB } from '../../src/generated/database';

/** How the scripted database answers one statement (by default: no rows, nothing changed). */
export type Answer = (sql: string, parameters: readonly unknown[]) => QueryResult<unknown> | undefined;

/**
 * A `Database<DB>` with no Postgres behind it, for unit tests of a use case: every statement it is
 * sent (BEGIN and COMMIT included) is recorded in `statements` — one entry per round trip — and
 * `answer` says what comes back. Integration tests use a real database; this only shows whether,
 * and what, a use case sends.
 */
export function scriptedDatabase(answer: Answer = () => undefined) {
  const statements: string[] = [];
  /** The parameters each of `statements` was sent with, by position. */
  const parameters: (readonly unknown[])[] = [];
  const connection: DatabaseConnection = {
    async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
      statements.push(query.sql);
      parameters.push(query.parameters);
      // As Kysely's Postgres connection answers them: COMMIT and ROLLBACK with their command tag.
      const ended =
        query.sql === 'COMMIT' || query.sql === 'ROLLBACK' ? { rows: [{ command: query.sql }] } : undefined;
      return (answer(query.sql, query.parameters) ?? ended ?? { rows: [] }) as QueryResult<R>;
    },
    // eslint-disable-next-line require-yield
    async *streamQuery() {
      throw new Error('the scripted database does not stream');
    },
  };
  const db: Database<DB> = new Kysely<DB>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createQueryCompiler: () => new PostgresQueryCompiler(),
      createIntrospector: (kysely) => new PostgresIntrospector(kysely),
      createDriver: () => ({
        init: async () => undefined,
        acquireConnection: async () => connection,
        beginTransaction: async () => undefined,
        commitTransaction: async () => undefined,
        rollbackTransaction: async () => undefined,
        releaseConnection: async () => undefined,
        destroy: async () => undefined,
      }),
    },
  });
  return { db, statements, parameters };
}

/**
 * A statement as a test names it: the writes of a `writeAll` (one statement of data-modifying
 * CTEs) as `writeAll: insert into "orders" + …`, anything else as its text.
 */
export function shapeOf(sql: string): string {
  const writes = [...sql.matchAll(/"write_\d+" as \((insert into "\w+"|update "\w+"|delete from "\w+")/g)];
  return writes.length > 0 ? `writeAll: ${writes.map((write) => write[1]).join(' + ')}` : sql;
}
