import { sql } from 'kysely';
import type { Pool } from 'pg';
import { createDatabase, inTransaction, type Database } from '../../src/database';
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
      const done = inTransaction(
        database,
        async (tx) => {
          if (body) await tx.insertInto('notes').values({ body }).execute();
          holding();
          await committing;
        },
        { advisoryLock: keys },
      );
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
      const second = inTransaction(
        database,
        async (tx) => {
          steps.push('second ran');
          return (await tx.selectFrom('notes').select('body').execute()).map((row) => row.body);
        },
        { advisoryLock: [7, 1] },
      );
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

    test('a transaction on other keys does not wait for the holder', async () => {
      // Arrange
      await holdLock([7, 2]);

      // Act: this resolves while [7, 2] is still held; were the keys ignored, it would never resolve.
      const other = await inTransaction(database, async () => 'ran', { advisoryLock: [7, 3] });

      // Assert
      expect(other).toBe('ran');
    });

    test('the int4 bounds are accepted as keys', async () => {
      // Act
      const result = await inTransaction(database, async () => 'locked', {
        advisoryLock: [-2_147_483_648, 2_147_483_647],
      });

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
      const outcome = inTransaction(database, async () => void ran.push('work'), { advisoryLock: keys });

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
