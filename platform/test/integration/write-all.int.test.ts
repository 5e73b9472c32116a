import type { Pool } from 'pg';
import { createDatabase, inTransaction, writeAll, type Database } from '../../src/database';
import { createPgPool } from '../../src/pg';
import { createTestDatabase, type TestDatabase } from '../../src/testing';
import { logger } from '../messaging/support/fixtures';
import { recordStatementsSent } from '../support/statements-sent';

interface Tables {
  parents: { id: number; name: string };
  children: { id: number; parent_id: number };
}

describe('writeAll', () => {
  let db: TestDatabase;
  let pool: Pool;
  let sent: string[];
  let database: Database<Tables>;

  beforeAll(async () => {
    db = await createTestDatabase({
      sql: [
        `CREATE TABLE parents (id int PRIMARY KEY, name text NOT NULL);
         CREATE TABLE children (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parents (id))`,
      ],
    });
    pool = createPgPool(db.url, { max: 2, logger });
    sent = recordStatementsSent(pool);
    database = createDatabase<Tables>(pool);
  });
  beforeEach(() => {
    sent.length = 0;
  });
  afterEach(() => pool.query('TRUNCATE children, parents'));
  afterAll(async () => {
    await database.destroy();
    await db.drop();
  });

  const parents = async () =>
    (await pool.query<{ id: number; name: string }>('SELECT id, name FROM parents ORDER BY id')).rows;
  const children = async () =>
    (await pool.query<{ id: number; parent_id: number }>('SELECT id, parent_id FROM children ORDER BY id'))
      .rows;

  test('every write of a call reaches Postgres as one statement, and all of them land', async () => {
    // Arrange
    await pool.query("INSERT INTO parents VALUES (1, 'old name'), (2, 'to delete')");
    sent.length = 0;

    // Act
    await writeAll(database, [
      database.insertInto('parents').values({ id: 3, name: 'new' }),
      database.updateTable('parents').set({ name: 'renamed' }).where('id', '=', 1),
      database.deleteFrom('parents').where('id', '=', 2),
    ]);

    // Assert
    expect(sent).toHaveLength(1);
    expect(await parents()).toEqual([
      { id: 1, name: 'renamed' },
      { id: 3, name: 'new' },
    ]);
  });

  test('when one write fails, none of the others land', async () => {
    // Arrange
    await pool.query("INSERT INTO parents VALUES (1, 'taken')");

    // Act: no transaction around it; the one statement is atomic by itself.
    const outcome = writeAll(database, [
      database.insertInto('parents').values({ id: 2, name: 'would be new' }),
      database.updateTable('parents').set({ name: 'would be renamed' }).where('id', '=', 1),
      database.insertInto('parents').values({ id: 1, name: 'duplicate' }),
    ]);

    // Assert
    await expect(outcome).rejects.toThrow(/duplicate key/);
    expect(await parents()).toEqual([{ id: 1, name: 'taken' }]);
  });

  test('the rows of returning come back typed, sent in the same statement as the other writes', async () => {
    // Act
    const rows: Array<{ id: number; name: string }> = await writeAll(
      database,
      [database.insertInto('parents').values({ id: 1, name: 'first' })],
      database
        .insertInto('parents')
        .values([
          { id: 2, name: 'second' },
          { id: 3, name: 'third' },
        ])
        .returning(['id', 'name']),
    );

    // Assert
    expect(sent).toHaveLength(1);
    expect(rows).toEqual([
      { id: 2, name: 'second' },
      { id: 3, name: 'third' },
    ]);
    // @ts-expect-error a column the returning clause did not name is not in the row type
    expect(rows[0]!.parent_id).toBeUndefined();
    expect(await parents()).toHaveLength(3);
  });

  test('an update in returning that finds no row answers no rows, so the caller sees the row was gone', async () => {
    // Act
    const rows = await writeAll(
      database,
      [database.insertInto('parents').values({ id: 1, name: 'written anyway' })],
      database.updateTable('parents').set({ name: 'renamed' }).where('id', '=', 99).returning('id'),
    );

    // Assert
    expect(rows).toEqual([]);
    expect(await parents()).toEqual([{ id: 1, name: 'written anyway' }]);
  });

  test('a child whose parent another write of the same call inserts passes the foreign key', async () => {
    // Act: the child comes first; the key is checked at the end of the statement, not per write.
    await writeAll(database, [
      database.insertInto('children').values({ id: 10, parent_id: 1 }),
      database.insertInto('parents').values({ id: 1, name: 'parent' }),
    ]);

    // Assert
    expect(sent).toHaveLength(1);
    expect(await children()).toEqual([{ id: 10, parent_id: 1 }]);
    expect(await parents()).toEqual([{ id: 1, name: 'parent' }]);
  });

  test('a child whose parent no write inserts is refused, and the other writes with it', async () => {
    // Act
    const outcome = writeAll(database, [
      database.insertInto('parents').values({ id: 1, name: 'parent' }),
      database.insertInto('children').values({ id: 10, parent_id: 2 }),
    ]);

    // Assert
    await expect(outcome).rejects.toThrow(/foreign key/);
    expect(await parents()).toEqual([]);
  });

  test('an empty list sends nothing and answers no rows', async () => {
    // Act
    const rows = await writeAll(database, []);

    // Assert
    expect(rows).toEqual([]);
    expect(sent).toEqual([]);
  });

  test("inside a transaction, the writes commit with the transaction's other statements or roll back with them", async () => {
    // Act
    await expect(
      inTransaction(database, async (tx) => {
        await writeAll(tx, [tx.insertInto('parents').values({ id: 1, name: 'rolled back' })]);
        throw new Error('the decision failed after the writes');
      }),
    ).rejects.toThrow('the decision failed after the writes');
    const rolledBack = await parents();
    await inTransaction(database, async (tx) => {
      await writeAll(tx, [tx.insertInto('parents').values({ id: 2, name: 'committed' })]);
    });

    // Assert
    expect(rolledBack).toEqual([]);
    expect(await parents()).toEqual([{ id: 2, name: 'committed' }]);
  });
});
