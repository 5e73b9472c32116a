import { randomUUID } from 'node:crypto';
import { createPgPool } from '../../src/pg';
import { createDatabase, type Database } from '../../src/database';
import { claimInbox, inTransactionOnceEach, isEventOutOfOrder, type InboxClaim } from '../../src/messaging';
import { recordStatementsSent } from '../support/statements-sent';
import { createMessagingWorld, logger, type MessagingTables, type MessagingWorld } from './support/fixtures';

/** What this file's messages write: one row each, and how many rows their order had when they read. */
type EffectsTable = {
  batch_effects: { event_id: string; order_id: number; seen_before: number };
};
type Tables = MessagingTables & EffectsTable;

/** A message of a batch: its claim and its order (the advisory lock's second key). */
interface Message {
  claim: InboxClaim;
  orderId: number;
}

const CONSUMER = 'test.batch';

/** The n-th event (from 1) of order `orderId`'s stream from the order service. */
const nth = (orderId: number, sequence: number, eventId = randomUUID()): Message => ({
  orderId,
  claim: {
    consumer: CONSUMER,
    eventId,
    place: {
      source: '/order-service',
      subject: String(orderId),
      sequence,
      opensStream: sequence === 1,
      causeId: null,
    },
  },
});

let nextOrder = 1;
const newOrder = () => nextOrder++;

describe('inTransactionOnceEach: a batch of messages in one transaction', () => {
  let world: MessagingWorld;
  let database: Database<Tables>;
  beforeAll(async () => {
    world = await createMessagingWorld();
    await world.pool.query(
      'CREATE TABLE batch_effects (event_id uuid PRIMARY KEY, order_id int NOT NULL, seen_before int NOT NULL)',
    );
    // A service's pool: its clients pipeline what a round trip sends together.
    database = createDatabase<Tables>(createPgPool(world.db.url, { max: 40, logger }));
  });
  afterAll(async () => {
    await database.destroy();
    await world.teardown();
  });

  /** Each message reads its order's rows so far and writes one row saying how many it saw. */
  const applyEach = (db: Database<Tables>, messages: readonly Message[]) =>
    inTransactionOnceEach(db, messages, {
      claim: (message) => message.claim,
      advisoryLock: (message) => [12, message.orderId],
      load: (tx, message) =>
        tx.selectFrom('batch_effects').select('event_id').where('order_id', '=', message.orderId),
      write: (tx, message, earlier) => ({
        writes: [],
        returning: tx
          .insertInto('batch_effects')
          .values({ event_id: message.claim.eventId, order_id: message.orderId, seen_before: earlier.length })
          .returning(['event_id', 'seen_before']),
      }),
    });

  const effectsOf = async (orderIds: number[]) =>
    (
      await world.pool.query<{ event_id: string; seen_before: number }>(
        'SELECT event_id, seen_before FROM batch_effects WHERE order_id = ANY($1) ORDER BY seen_before, event_id',
        [orderIds],
      )
    ).rows;
  const claimed = async (messages: readonly Message[]) =>
    (
      await world.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM processed_messages WHERE consumer = $1 AND event_id = ANY($2::uuid[])',
        [CONSUMER, messages.map((message) => message.claim.eventId)],
      )
    ).rows[0]!.n;

  test('every new message of the batch takes effect once and answers its rows; one already claimed answers duplicate and writes nothing', async () => {
    // Arrange
    const [first, second, third] = [nth(newOrder(), 1), nth(newOrder(), 1), nth(newOrder(), 1)];
    await claimInbox(database, second.claim);

    // Act
    const outcomes = await applyEach(database, [first, second, third]);

    // Assert
    expect(outcomes).toEqual([
      [{ event_id: first.claim.eventId, seen_before: 0 }],
      'duplicate',
      [{ event_id: third.claim.eventId, seen_before: 0 }],
    ]);
    expect(await effectsOf([first.orderId, second.orderId, third.orderId])).toHaveLength(2);
    expect(await claimed([first, second, third])).toBe(3);
  });

  test("messages of one order take effect in the order given: each later one's claim finds the earlier claimed and its read sees the earlier writes", async () => {
    // Arrange: three events of one order's stream, with another order's event between them.
    const orderId = newOrder();
    const other = nth(newOrder(), 1);
    const stream = [nth(orderId, 1), nth(orderId, 2), nth(orderId, 3)];

    // Act
    const outcomes = await applyEach(database, [stream[0]!, other, stream[1]!, stream[2]!]);

    // Assert
    expect(outcomes.map((rows) => rows !== 'duplicate' && rows[0]!.seen_before)).toEqual([0, 0, 1, 2]);
    expect(await claimed([...stream, other])).toBe(4);
  });

  test('the same event twice in one batch takes effect once', async () => {
    // Arrange
    const message = nth(newOrder(), 1);

    // Act
    const outcomes = await applyEach(database, [message, message]);

    // Assert
    expect(outcomes[1]).toBe('duplicate');
    expect(await effectsOf([message.orderId])).toHaveLength(1);
  });

  test('an event that came before its turn rolls the whole batch back: no claim and no write of any message', async () => {
    // Arrange: the second event of an order whose first was never applied here.
    const fine = nth(newOrder(), 1);
    const early = nth(newOrder(), 2);

    // Act
    const batch = applyEach(database, [fine, early]);

    // Assert
    const error = await batch.then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(isEventOutOfOrder(error)).toBe(true);
    expect(await effectsOf([fine.orderId, early.orderId])).toEqual([]);
    expect(await claimed([fine, early])).toBe(0);
  });

  test('a write that fails rolls the whole batch back, so each message can be taken again on its own', async () => {
    // Arrange: the second message's row collides with a row already there.
    const fine = nth(newOrder(), 1);
    const colliding = nth(newOrder(), 1);
    await world.pool.query('INSERT INTO batch_effects VALUES ($1, 0, 0)', [colliding.claim.eventId]);

    // Act
    const batch = applyEach(database, [fine, colliding]);

    // Assert
    await expect(batch).rejects.toMatchObject({ code: '23505' });
    expect(await effectsOf([fine.orderId])).toEqual([]);
    expect(await claimed([fine, colliding])).toBe(0);
    expect(await applyEach(database, [fine])).toEqual([[{ event_id: fine.claim.eventId, seen_before: 0 }]]);
  });

  test('batches that take the same orders in opposite orders all commit: locks are taken sorted, so none waits for another in a circle', async () => {
    // Arrange: twenty pairs of batches, each pair over the same two orders, one batch in each order.
    const pairs = Array.from({ length: 20 }, () => {
      const [a, b] = [newOrder(), newOrder()];
      return [
        [nth(a, 1), nth(b, 1)],
        [nth(b, 2), nth(a, 2)],
      ];
    });

    // Act: all at once, each batch on a connection of its own.
    const outcomes = await Promise.allSettled(
      pairs.flat().map(async (batch) => {
        // The two batches of a pair may run in either order; a second one first waits its turn.
        for (;;) {
          try {
            return await applyEach(database, batch);
          } catch (error) {
            if (!isEventOutOfOrder(error)) throw error;
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        }
      }),
    );

    // Assert: no deadlock (40P01) failed any of them.
    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    expect(await effectsOf(pairs.flat(2).map((message) => message.orderId))).toHaveLength(80);
  });

  test('without a lock, every message goes in one round, and a duplicate among them is still told apart', async () => {
    // Arrange
    const pool = createPgPool(world.db.url, { max: 1, logger });
    const sent = recordStatementsSent(pool);
    const db = createDatabase<Tables>(pool);
    const [first, second] = [nth(newOrder(), 1), nth(newOrder(), 1)];
    try {
      // Act
      const outcomes = await inTransactionOnceEach(db, [first, second, first], {
        claim: (message) => message.claim,
        write: (tx, message) => ({
          writes: [
            tx
              .insertInto('batch_effects')
              .values({ event_id: message.claim.eventId, order_id: message.orderId, seen_before: 0 }),
          ],
        }),
      });

      // Assert
      expect(outcomes.map((outcome) => (outcome === 'duplicate' ? outcome : 'applied'))).toEqual([
        'applied',
        'applied',
        'duplicate',
      ]);
      expect(sent).toEqual([
        expect.stringMatching(/^BEGIN; SELECT c\.claimed/),
        expect.stringMatching(/^with "write_0" as \(insert into "batch_effects"/),
        expect.stringMatching(/^with "write_0" as \(insert into "batch_effects"/),
        'COMMIT',
      ]);
      expect(await effectsOf([first.orderId, second.orderId])).toHaveLength(2);
    } finally {
      await db.destroy();
    }
  });

  test('a batch of messages of different orders costs two round trips: the opening with every claim and read, then every write with COMMIT', async () => {
    // Arrange
    const pool = createPgPool(world.db.url, { max: 1, logger });
    const sent = recordStatementsSent(pool);
    const db = createDatabase<Tables>(pool);
    const messages = [nth(newOrder(), 1), nth(newOrder(), 1), nth(newOrder(), 1)];
    try {
      // Act
      const outcomes = await applyEach(db, messages);

      // Assert: what was sent, in order (the reads right behind the opening, the writes behind COMMIT's).
      expect(outcomes.every((rows) => rows !== 'duplicate')).toBe(true);
      const locks = messages
        .map((message) => `SELECT pg_advisory_xact_lock(12, ${message.orderId})`)
        .join('; ');
      expect(sent).toEqual([
        expect.stringMatching(new RegExp(`^BEGIN; ${locks.replace(/[()]/g, '\\$&')}; SELECT c\\.claimed`)),
        ...messages.map(() => expect.stringMatching(/^select "event_id" from "batch_effects"/)),
        ...messages.map(() => expect.stringMatching(/^with "write_0" as \(insert into "batch_effects"/)),
        'COMMIT',
      ]);
    } finally {
      await db.destroy();
    }
  });
});
