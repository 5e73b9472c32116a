import { sql } from 'kysely';
import type { Pool } from 'pg';
import { createDatabase, inTransaction, type Database } from '../../src/database';
import { createPgPool } from '../../src/pg';
import { createTestDatabase, type TestDatabase } from '../../src/testing';
import { logger } from '../messaging/support/fixtures';

interface Tables {
  notes: { body: string };
}

/** The statements prepared on `tx`'s connection, with how often each was executed there. */
const preparedOn = async (tx: Database<Tables>) =>
  (
    await sql<{ name: string; statement: string; executions: number }>`
      SELECT name, statement, (generic_plans + custom_plans)::int AS executions FROM pg_prepared_statements`.execute(
      tx,
    )
  ).rows;

describe('statements sent through createDatabase', () => {
  let db: TestDatabase;
  let pool: Pool;
  let database: Database<Tables>;

  beforeAll(async () => {
    db = await createTestDatabase({
      sql: ["CREATE TABLE notes (body text NOT NULL); INSERT INTO notes VALUES ('x')"],
    });
    pool = createPgPool(db.url, { max: 2, logger });
    database = createDatabase<Tables>(pool);
  });
  afterAll(async () => {
    await database.destroy();
    await db.drop();
  });

  test('a statement with parameters run twice on one connection is prepared once, under a shop_ name, and executed twice', async () => {
    // Arrange
    const select = (on: Database<Tables>) => on.selectFrom('notes').select('body').where('body', '=', 'x');
    const text = select(database).compile().sql;

    // Act
    const { results, prepared } = await inTransaction(database, async (tx) => {
      const results = [await select(tx).execute(), await select(tx).execute()];
      return { results, prepared: await preparedOn(tx) };
    });

    // Assert
    expect(results).toEqual([[{ body: 'x' }], [{ body: 'x' }]]);
    expect(prepared.filter((statement) => statement.statement === text)).toEqual([
      { name: expect.stringMatching(/^shop_\d+$/), statement: text, executions: 2 },
    ]);
  });

  test('a statement without parameters runs unprepared', async () => {
    // Arrange
    const select = (on: Database<Tables>) => on.selectFrom('notes').select('body');
    const text = select(database).compile().sql;

    // Act
    const { results, prepared } = await inTransaction(database, async (tx) => {
      const results = [await select(tx).execute(), await select(tx).execute()];
      return { results, prepared: await preparedOn(tx) };
    });

    // Assert
    expect(results).toEqual([[{ body: 'x' }], [{ body: 'x' }]]);
    expect(prepared.map((statement) => statement.statement)).not.toContain(text);
  });

  test("a query of several statements answers with the last statement's result", async () => {
    // Act
    const result = await sql
      .raw<{ said: string }>("SELECT 'first' AS said; SELECT 'middle' AS said; SELECT 'last' AS said")
      .execute(database);

    // Assert
    expect(result.rows).toEqual([{ said: 'last' }]);
  });
});
