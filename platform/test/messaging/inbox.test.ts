import { randomUUID } from 'node:crypto';
import { createPgPool } from '../../src/pg';
import { createDatabase, inTransaction, type Database } from '../../src/database';
import { appendToOutbox, claimInbox, inTransactionOnce } from '../../src/messaging';
import { buildOrderCreated, eventually } from '../../src/testing';
import { recordStatementsSent } from '../support/statements-sent';
import { createMessagingWorld, logger, type MessagingTables, type MessagingWorld } from './support/fixtures';

describe('claimInbox', () => {
  let world: MessagingWorld;
  beforeAll(async () => {
    world = await createMessagingWorld();
  });
  afterAll(() => world.teardown());

  const inboxRows = async (eventId: string) =>
    (
      await world.pool.query<{ consumer: string }>(
        'SELECT consumer FROM processed_messages WHERE event_id = $1 ORDER BY consumer',
        [eventId],
      )
    ).rows.map((row) => row.consumer);

  test('the first claim of an event by a consumer is true and every later one is false', async () => {
    // Arrange
    const eventId = randomUUID();

    // Act
    const claims = [
      await inTransaction(world.database, (tx) => claimInbox(tx, 'product-service.orders', eventId)),
      await inTransaction(world.database, (tx) => claimInbox(tx, 'product-service.orders', eventId)),
      await claimInbox(world.database, 'product-service.orders', eventId),
    ];

    // Assert
    expect(claims).toEqual([true, false, false]);
    expect(await inboxRows(eventId)).toEqual(['product-service.orders']);
  });

  test('each consumer claims the same event once for itself', async () => {
    // Arrange
    const eventId = randomUUID();

    // Act
    const first = await claimInbox(world.database, 'order-service.stock', eventId);
    const other = await claimInbox(world.database, 'notification-service.events', eventId);

    // Assert
    expect([first, other]).toEqual([true, true]);
    expect(await inboxRows(eventId)).toEqual(['notification-service.events', 'order-service.stock']);
  });

  test('a claim inside a transaction that rolls back leaves no row, so the redelivery claims it', async () => {
    // Arrange
    const eventId = randomUUID();
    const claimedBeforeTheFailure: boolean[] = [];

    // Act
    await expect(
      inTransaction(world.database, async (tx) => {
        claimedBeforeTheFailure.push(await claimInbox(tx, 'product-service.orders', eventId));
        throw new Error('the effect failed');
      }),
    ).rejects.toThrow('the effect failed');
    const rowsAfterRollback = await inboxRows(eventId);
    const redelivery = await inTransaction(world.database, (tx) =>
      claimInbox(tx, 'product-service.orders', eventId),
    );

    // Assert
    expect(claimedBeforeTheFailure).toEqual([true]);
    expect(rowsAfterRollback).toEqual([]);
    expect(redelivery).toBe(true);
  });
});

describe('inTransactionOnce', () => {
  let world: MessagingWorld;
  beforeAll(async () => {
    world = await createMessagingWorld();
  });
  afterAll(() => world.teardown());

  const CONSUMER = 'product-service.orders';

  const inboxRows = async (eventId: string) =>
    (
      await world.pool.query<{ consumer: string }>(
        'SELECT consumer FROM processed_messages WHERE event_id = $1 ORDER BY consumer',
        [eventId],
      )
    ).rows.map((row) => row.consumer);
  const outboxIds = async (ids: string[]) =>
    (
      await world.pool.query<{ id: string }>('SELECT id FROM outbox_events WHERE id = ANY($1::uuid[])', [ids])
    ).rows.map((row) => row.id);

  /** An effect that writes one event to the outbox, so a test can see whether it committed. */
  const writesAnEvent = (ran: string[]) => async (tx: Database<MessagingTables>) => {
    const event = buildOrderCreated();
    ran.push(event.id);
    await appendToOutbox(tx, [event], { aggregateType: 'order' });
    return 'applied' as const;
  };

  test("the first delivery runs the effect and commits the claim with the effect's writes", async () => {
    // Arrange
    const eventId = randomUUID();
    const ran: string[] = [];

    // Act
    const outcome = await inTransactionOnce(
      world.database,
      { consumer: CONSUMER, eventId },
      writesAnEvent(ran),
    );

    // Assert
    expect(outcome).toBe('applied');
    expect(ran).toHaveLength(1);
    expect(await outboxIds(ran)).toEqual(ran);
    expect(await inboxRows(eventId)).toEqual([CONSUMER]);
  });

  test('a second delivery of the same event to the same consumer answers duplicate and does not run the effect', async () => {
    // Arrange
    const eventId = randomUUID();
    const ran: string[] = [];

    // Act
    const outcomes = [
      await inTransactionOnce(world.database, { consumer: CONSUMER, eventId }, writesAnEvent(ran)),
      await inTransactionOnce(world.database, { consumer: CONSUMER, eventId }, writesAnEvent(ran)),
    ];

    // Assert
    expect(outcomes).toEqual(['applied', 'duplicate']);
    expect(ran).toHaveLength(1);
    expect(await inboxRows(eventId)).toEqual([CONSUMER]);
  });

  test('an effect that throws leaves no claim and none of its writes, so the redelivery runs it', async () => {
    // Arrange
    const eventId = randomUUID();
    const failed: string[] = [];

    // Act
    const first = inTransactionOnce(world.database, { consumer: CONSUMER, eventId }, async (tx) => {
      await writesAnEvent(failed)(tx);
      throw new Error('the effect failed');
    });
    await expect(first).rejects.toThrow('the effect failed');
    const claimsAfterTheFailure = await inboxRows(eventId);
    const ran: string[] = [];
    const redelivery = await inTransactionOnce(
      world.database,
      { consumer: CONSUMER, eventId },
      writesAnEvent(ran),
    );

    // Assert
    expect(claimsAfterTheFailure).toEqual([]);
    expect(await outboxIds(failed)).toEqual([]);
    expect(redelivery).toBe('applied');
    expect(await outboxIds(ran)).toEqual(ran);
    expect(await inboxRows(eventId)).toEqual([CONSUMER]);
  });

  test("another consumer's claim of the same event is its own: each runs its effect once", async () => {
    // Arrange
    const eventId = randomUUID();
    const ran: string[] = [];
    const deliver = (consumer: string) =>
      inTransactionOnce(world.database, { consumer, eventId }, writesAnEvent(ran));

    // Act
    const outcomes = [
      await deliver('order-service.stock'),
      await deliver('notification-service.events'),
      await deliver('order-service.stock'),
      await deliver('notification-service.events'),
    ];

    // Assert
    expect(outcomes).toEqual(['applied', 'applied', 'duplicate', 'duplicate']);
    expect(ran).toHaveLength(2);
    expect(await inboxRows(eventId)).toEqual(['notification-service.events', 'order-service.stock']);
  });

  test.each([
    ['a quote', "o'brien"],
    ['a backslash and a quote', "back\\slash\\'; DROP TABLE processed_messages; --"],
  ])('a consumer name with %s is stored exactly, and its redelivery is a duplicate', async (_, consumer) => {
    // Arrange
    const eventId = randomUUID();

    // Act
    const outcomes = [
      await inTransactionOnce(world.database, { consumer, eventId }, async () => 'applied'),
      await inTransactionOnce(world.database, { consumer, eventId }, async () => 'applied'),
    ];

    // Assert
    expect(outcomes).toEqual(['applied', 'duplicate']);
    expect(await inboxRows(eventId)).toEqual([consumer]);
  });

  test('a delivery costs three round trips: BEGIN with the claim, the effect, COMMIT', async () => {
    // Arrange
    const pool = createPgPool(world.db.url, { max: 1, logger });
    const sent = recordStatementsSent(pool);
    const database = createDatabase<MessagingTables>(pool);
    try {
      // Act
      const outcome = await inTransactionOnce(
        database,
        { consumer: CONSUMER, eventId: randomUUID() },
        { advisoryLock: [11, 1] },
        writesAnEvent([]),
      );

      // Assert
      expect(outcome).toBe('applied');
      expect(sent).toEqual([
        expect.stringMatching(
          /^BEGIN; SELECT pg_advisory_xact_lock\(11, 1\); SELECT claimed, in_order, seen FROM shop_inbox_claim\(/,
        ),
        expect.stringMatching(/^insert into "outbox_events"/),
        'COMMIT',
      ]);
    } finally {
      await database.destroy();
    }
  });

  describe('with an advisory lock', () => {
    /** Transactions of this database blocked in pg_advisory_xact_lock right now. */
    const waitingForAdvisoryLock = async () =>
      (
        await world.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks
            WHERE locktype = 'advisory' AND NOT granted
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        )
      ).rows[0]!.n;

    test('a second delivery on the same keys waits for the first to commit before it claims and runs', async () => {
      // Arrange
      const steps: string[] = [];
      let mayCommit!: () => void;
      const committing = new Promise<void>((resolve) => (mayCommit = resolve));
      let holding!: () => void;
      const held = new Promise<void>((resolve) => (holding = resolve));
      const first = inTransactionOnce(
        world.database,
        { consumer: CONSUMER, eventId: randomUUID() },
        { advisoryLock: [11, 2] },
        async () => {
          holding();
          await committing;
          return 'first applied';
        },
      );
      await Promise.race([held, first]);

      // Act
      const second = inTransactionOnce(
        world.database,
        { consumer: CONSUMER, eventId: randomUUID() },
        { advisoryLock: [11, 2] },
        async () => {
          steps.push('second ran');
          return 'second applied';
        },
      );
      try {
        // Either the second blocks on the lock, or (were the lock not taken) it has already run.
        await eventually(async () => steps.length > 0 || (await waitingForAdvisoryLock()) === 1, {
          description: 'the second blocked on the lock or ran',
        });
        steps.push('first commits');
      } finally {
        mayCommit();
      }

      // Assert
      expect(await first).toBe('first applied');
      expect(await second).toBe('second applied');
      expect(steps).toEqual(['first commits', 'second ran']);
    });
  });

  // The opening (BEGIN, lock, claim) is one simple query: a failure after its BEGIN must still
  // be rolled back, or the next transaction on the connection fails with "current transaction is aborted".
  test('after the opening fails, its connection goes back to the pool out of the aborted transaction', async () => {
    // Arrange: one connection, so the next transaction must run on the same one.
    const single = createDatabase<MessagingTables>(createPgPool(world.db.url, { max: 1, logger }));
    try {
      const failed = inTransactionOnce(
        single,
        { consumer: CONSUMER, eventId: 'not-a-uuid' },
        async () => 'ran',
      );
      await expect(failed).rejects.toThrow(/invalid input syntax for type uuid/);

      // Act
      const eventId = randomUUID();
      const next = await inTransactionOnce(single, { consumer: CONSUMER, eventId }, async () => 'applied');

      // Assert
      expect(next).toBe('applied');
      expect(await inboxRows(eventId)).toEqual([CONSUMER]);
    } finally {
      await single.destroy();
    }
  });
});
