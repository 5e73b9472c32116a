import { sql } from 'kysely';
import type { Pool } from 'pg';
import { commitWith, createDatabase, inTransaction, type Database } from '../../src/database';
import { isDatabaseUnavailable } from '../../src/database-connection-errors';
import { createPgPool } from '../../src/pg';
import {
  collectEscapedErrors,
  createTestDatabase,
  eventually,
  terminateConnections,
  type TestDatabase,
} from '../../src/testing';
import { logger } from '../messaging/support/fixtures';

interface Tables {
  notes: { body: string };
}

const backendPid = async (tx: Database<Tables>) =>
  (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(tx)).rows[0]!.pid;

describe('inTransaction', () => {
  let db: TestDatabase;
  let pool: Pool;
  let database: Database<Tables>;

  beforeAll(async () => {
    db = await createTestDatabase({ sql: ['CREATE TABLE notes (body text NOT NULL UNIQUE)'] });
    pool = createPgPool(db.url, { max: 4, logger });
    database = createDatabase<Tables>(pool);
  });
  afterEach(() => pool.query('TRUNCATE notes'));
  afterAll(async () => {
    await database.destroy();
    await db.drop();
  });

  const notes = async () =>
    (await pool.query<{ body: string }>('SELECT body FROM notes ORDER BY body')).rows.map((row) => row.body);

  test('when the work resolves, every write commits and the result is returned', async () => {
    // Act
    const result = await inTransaction(database, async (tx) => {
      await tx.insertInto('notes').values({ body: 'a' }).execute();
      await tx.insertInto('notes').values({ body: 'b' }).execute();
      return 'done';
    });

    // Assert
    expect(result).toBe('done');
    expect(await notes()).toEqual(['a', 'b']);
  });

  test('when the work throws, none of its writes commit and the call rejects with that error', async () => {
    // Act
    const outcome = inTransaction(database, async (tx) => {
      await tx.insertInto('notes').values({ body: 'a' }).execute();
      await tx.insertInto('notes').values({ body: 'b' }).execute();
      throw new Error('the decision failed');
    });

    // Assert
    await expect(outcome).rejects.toThrow('the decision failed');
    expect(await notes()).toEqual([]);
  });

  test('after a statement fails, its connection goes back to the pool out of the aborted transaction', async () => {
    // Arrange: one connection, so the next transaction must run on the same one.
    const single = createDatabase<Tables>(createPgPool(db.url, { max: 1, logger }));
    try {
      const pids: number[] = [];
      const failed = inTransaction(single, async (tx) => {
        pids.push(await backendPid(tx));
        await tx.insertInto('notes').values({ body: 'taken' }).execute();
        await tx.insertInto('notes').values({ body: 'taken' }).execute();
      });
      await expect(failed).rejects.toThrow(/duplicate key/);

      // Act
      const next = await inTransaction(single, async (tx) => {
        pids.push(await backendPid(tx));
        await tx.insertInto('notes').values({ body: 'next' }).execute();
        return 'committed';
      });

      // Assert
      expect(next).toBe('committed');
      expect(pids[1]).toBe(pids[0]);
      expect(await notes()).toEqual(['next']);
    } finally {
      await single.destroy();
    }
  });

  describe('with an advisory lock', () => {
    /** Transactions of this database blocked in pg_advisory_xact_lock right now. */
    const waitingForAdvisoryLock = async () =>
      (
        await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks
            WHERE locktype = 'advisory' AND NOT granted
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        )
      ).rows[0]!.n;

    const releases: Array<() => Promise<void>> = [];
    // A holder a failed test left open would block the TRUNCATE after it; let every one commit.
    afterEach(() => Promise.all(releases.splice(0).map((release) => release())));

    /** A transaction that holds the lock on `keys` (having written `body`, if given) until `commit()`. */
    async function holdLock(keys: readonly [number, number], body?: string) {
      let mayCommit!: () => void;
      const committing = new Promise<void>((resolve) => (mayCommit = resolve));
      let holding!: () => void;
      const held = new Promise<void>((resolve) => (holding = resolve));
      const done = inTransaction(database, { advisoryLock: keys }, async (tx) => {
        if (body) await tx.insertInto('notes').values({ body }).execute();
        holding();
        await committing;
      });
      const commit = () => {
        mayCommit();
        return done;
      };
      releases.push(commit);
      await Promise.race([held, done]);
      return { commit };
    }

    test('a second transaction on the same keys waits for the first to commit, then sees its write', async () => {
      // Arrange
      const steps: string[] = [];
      const first = await holdLock([7, 1], 'written by the first');

      // Act
      const second = inTransaction(database, { advisoryLock: [7, 1] }, async (tx) => {
        steps.push('second ran');
        return (await tx.selectFrom('notes').select('body').execute()).map((row) => row.body);
      });
      await eventually(async () => (await waitingForAdvisoryLock()) === 1, {
        description: 'the second blocked on the lock',
      });
      steps.push('first commits');
      await first.commit();
      const seenBySecond = await second;

      // Assert
      expect(steps).toEqual(['first commits', 'second ran']);
      expect(seenBySecond).toEqual(['written by the first']);
    });

    test('its load is sent with the opening but reads after the lock is held: it sees what the holder committed', async () => {
      // Arrange
      const first = await holdLock([7, 4], 'written by the holder');

      // Act
      const second = inTransaction(
        database,
        {
          advisoryLock: [7, 4],
          load: async (tx) => (await tx.selectFrom('notes').select('body').execute()).map((row) => row.body),
        },
        async (_tx, loaded) => loaded,
      );
      await eventually(async () => (await waitingForAdvisoryLock()) === 1, {
        description: 'the second blocked on the lock',
      });
      await first.commit();

      // Assert
      expect(await second).toEqual(['written by the holder']);
    });

    test('a transaction on other keys does not wait for the holder', async () => {
      // Arrange
      await holdLock([7, 2]);

      // Act: this resolves while [7, 2] is still held; were the keys ignored, it would never resolve.
      const other = await inTransaction(database, { advisoryLock: [7, 3] }, async () => 'ran');

      // Assert
      expect(other).toBe('ran');
    });

    test('the int4 bounds are accepted as keys', async () => {
      // Act
      const result = await inTransaction(
        database,
        { advisoryLock: [-2_147_483_648, 2_147_483_647] },
        async () => 'locked',
      );

      // Assert
      expect(result).toBe('locked');
    });

    test.each([
      ['above int4', [2_147_483_648, 1]],
      ['below int4', [1, -2_147_483_649]],
      ['a fraction', [1.5, 1]],
      ['not a number', [Number.NaN, 1]],
      ['infinite', [1, Number.POSITIVE_INFINITY]],
    ] as const)('a key that is %s is refused before any work runs', async (_, keys) => {
      // Arrange
      const ran: string[] = [];

      // Act
      const outcome = inTransaction(database, { advisoryLock: keys }, async () => void ran.push('work'));

      // Assert
      await expect(outcome).rejects.toThrow(TypeError);
      await expect(outcome).rejects.toThrow('advisory lock keys must be int4');
      expect(ran).toEqual([]);
    });
  });

  describe('when the connection is terminated mid-transaction', () => {
    const escaped = collectEscapedErrors().errors;

    test('it rejects with an error isDatabaseUnavailable recognises, nothing commits, and the pool serves the next transaction on a new connection', async () => {
      // Arrange: one connection, so a killed client handed out again would fail the next transaction.
      const single = createDatabase<Tables>(createPgPool(db.url, { max: 1, logger }));
      try {
        const pids: number[] = [];
        const killed = inTransaction(single, async (tx) => {
          pids.push(await backendPid(tx));
          await tx.insertInto('notes').values({ body: 'never committed' }).execute();
          await sql`SELECT 'about to be killed' AS step`.execute(tx);
          await terminateConnections(db.url, { queryContains: 'about to be killed' });
          await sql`SELECT 1`.execute(tx);
        });

        // Act
        const error = await killed.then(
          () => undefined,
          (reason: unknown) => reason,
        );
        const next = await inTransaction(single, async (tx) => {
          pids.push(await backendPid(tx));
          await tx.insertInto('notes').values({ body: 'next' }).execute();
          return 'committed';
        });

        // Assert
        expect(error).toBeInstanceOf(Error);
        expect(isDatabaseUnavailable(error)).toBe(true);
        expect(next).toBe('committed');
        expect(pids).toHaveLength(2);
        expect(pids[1]).not.toBe(pids[0]);
        expect(await notes()).toEqual(['next']);
        expect(escaped).toEqual([]);
      } finally {
        await single.destroy();
      }
    });
  });
});

describe('commitWith', () => {
  let db: TestDatabase;
  let pool: Pool;
  let database: Database<Tables>;
  /** Round trips on the pool's connections: a query sent while none awaits its answer starts one. */
  let roundTrips = 0;

  beforeAll(async () => {
    db = await createTestDatabase({ sql: ['CREATE TABLE notes (body text NOT NULL UNIQUE)'] });
    pool = createPgPool(db.url, { max: 2, logger });
    pool.on('connect', (client) => {
      let awaiting = 0;
      const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
      client.query = ((...args: unknown[]) => {
        const answer = query(...args);
        if (!(answer instanceof Promise)) return answer; // pool.query's callback form: arranging, not measured
        if (awaiting++ === 0) roundTrips += 1;
        answer.then(
          () => void awaiting--,
          () => void awaiting--,
        );
        return answer;
      }) as typeof client.query;
    });
    database = createDatabase<Tables>(pool);
  });
  afterEach(() => pool.query('TRUNCATE notes'));
  afterAll(async () => {
    await database.destroy();
    await db.drop();
  });

  const notes = async () =>
    (await pool.query<{ body: string }>('SELECT body FROM notes ORDER BY body')).rows.map((row) => row.body);
  const insert = (tx: Database<Tables>, body: string) => tx.insertInto('notes').values({ body });

  test('a transaction that loads, then commits its writes with commitWith, takes two round trips and returns the written rows', async () => {
    // Arrange
    await pool.query(`INSERT INTO notes (body) VALUES ('seen')`);
    const before = roundTrips;

    // Act
    const written = await inTransaction(
      database,
      { load: async (tx) => (await tx.selectFrom('notes').select('body').execute()).length },
      (tx, count) => commitWith(tx, [insert(tx, `after ${count}`)], insert(tx, 'returned').returning('body')),
    );

    // Assert
    expect(roundTrips - before).toBe(2);
    expect(written).toEqual([{ body: 'returned' }]);
    expect(await notes()).toEqual(['after 1', 'returned', 'seen']);
  });

  test('when the write fails, nothing commits and the write’s error is thrown', async () => {
    // Arrange
    await pool.query(`INSERT INTO notes (body) VALUES ('taken')`);

    // Act
    const outcome = inTransaction(database, async (tx) => {
      await insert(tx, 'before').execute();
      await commitWith(tx, [insert(tx, 'new'), insert(tx, 'taken')]);
    });

    // Assert
    await expect(outcome).rejects.toMatchObject({ code: '23505' });
    expect(await notes()).toEqual(['taken']);
  });

  test('a transaction whose work swallowed a failed statement rejects instead of reporting a commit', async () => {
    // Act: the work catches the failure and goes on; Postgres answers the COMMIT with ROLLBACK.
    const outcome = inTransaction(database, async (tx) => {
      await insert(tx, 'kept?').execute();
      await sql`SELECT 1 / 0`.execute(tx).catch(() => undefined);
      return 'done';
    });

    // Assert
    await expect(outcome).rejects.toThrow('the transaction did not commit (Postgres answered ROLLBACK)');
    expect(await notes()).toEqual([]);
  });

  test('when one of the work’s statements fails, none sent alongside it commits, even those still queued', async () => {
    // Arrange
    await pool.query(`INSERT INTO notes (body) VALUES ('taken')`);

    // Act: the first fails at once; the other two are queued behind it when the ROLLBACK is sent.
    const outcome = inTransaction(database, (tx) =>
      Promise.all([
        insert(tx, 'taken').execute(),
        insert(tx, 'second').execute(),
        insert(tx, 'third').execute(),
      ]),
    );

    // Assert
    await expect(outcome).rejects.toMatchObject({ code: '23505' });
    expect(await notes()).toEqual(['taken']);
  });

  test('a statement sent on the transaction after commitWith is refused instead of running outside it', async () => {
    // Act
    const outcome = inTransaction(database, async (tx) => {
      await commitWith(tx, [insert(tx, 'committed')]);
      await insert(tx, 'after the commit').execute();
    });

    // Assert
    await expect(outcome).rejects.toThrow('this transaction has ended');
    expect(await notes()).toEqual(['committed']);
  });

  test('it is refused outside a transaction and a second time in one', async () => {
    // Act
    const outside = commitWith(database, [insert(database, 'outside')]);
    const twice = inTransaction(database, async (tx) => {
      await commitWith(tx, [insert(tx, 'once')]);
      await commitWith(tx, [insert(tx, 'twice')]);
    });

    // Assert
    await expect(outside).rejects.toThrow(
      'commitWith ends a transaction of inTransaction or inTransactionOnce, once',
    );
    await expect(twice).rejects.toThrow(
      'commitWith ends a transaction of inTransaction or inTransactionOnce, once',
    );
    expect(await notes()).toEqual(['once']);
  });
});
