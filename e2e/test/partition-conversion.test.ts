import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, inTransactionOnce, migrate, type EventPlace, type InboxTable } from '@shop/platform';
import { createTestDatabase, type TestDatabase } from '@shop/platform/testing';
import { Pool } from 'pg';

/**
 * Decision 36 converts the outbox and the inbox of a running database into partitioned tables. These
 * fill a database through every migration before that one, as a service of the last release would
 * have, then apply the rest: nothing may be lost, and what the rows meant must still hold.
 */
const root = join(__dirname, '../..');
const CONVERSION = '20261130170000_';
const DAY = 86_400_000;

/** The service's migrations before the conversion, in a directory of their own. */
function migrationsBeforeConversion(service: string): string {
  const all = join(root, service, 'prisma/migrations');
  const dir = mkdtempSync(join(tmpdir(), 'shop-before-partitions-'));
  for (const name of readdirSync(all).filter((name) => name < CONVERSION && !name.endsWith('.toml'))) {
    cpSync(join(all, name), join(dir, name), { recursive: true });
  }
  return dir;
}

const placeOf = (subject: string, sequence: number): EventPlace => ({
  source: '/order-service',
  subject,
  sequence,
  opensStream: sequence === 0,
  causeId: null,
});

describe.each([
  ['order-service', true],
  ['product-service', true],
  ['notification-service', false],
])('converting a %s database filled by the previous schema', (service, hasOutbox) => {
  let database: TestDatabase;
  let pool: Pool;
  let before: string;
  const ordered = 'test.ordered';
  const unordered = 'test.unordered';
  const stream = randomUUID();
  const placedEvents = [randomUUID(), randomUUID()];
  const unplacedEvent = randomUUID();

  beforeAll(async () => {
    before = migrationsBeforeConversion(service);
    database = await createTestDatabase({ migrationsDir: before });
    pool = new Pool({ connectionString: database.url, max: 4 });
    if (hasOutbox) {
      // Three days of published rows, and two old rows the relay has not published yet.
      await pool.query(
        `INSERT INTO outbox_events (id, aggregate_type, aggregate_id, sequence, type, exchange, routing_key, payload, created_at, published_at)
         SELECT gen_random_uuid(), 'order', (i % 50)::text, i, 'OrderCreated', 'orders', 'order.created', jsonb_build_object('n', i),
                now() - (i % 3) * interval '1 day' - interval '1 hour',
                CASE WHEN i IN (7, 8) THEN NULL ELSE now() - (i % 3) * interval '1 day' END
           FROM generate_series(1, 300) i`,
      );
    }
    // A consumer that recorded places (decision 33), one stream two events in, two days ago…
    await pool.query(
      `INSERT INTO processed_messages (consumer, event_id, processed_at, source, subject, sequence)
       VALUES ($1, $2, now() - interval '2 days', '/order-service', $4, 0),
              ($1, $3, now() - interval '2 days', '/order-service', $4, 1)`,
      [ordered, placedEvents[0], placedEvents[1], stream],
    );
    // …and one with history from before places were recorded.
    await pool.query(
      `INSERT INTO processed_messages (consumer, event_id, processed_at) VALUES ($1, $2, now() - interval '40 days')`,
      [unordered, unplacedEvent],
    );
  });
  afterAll(async () => {
    await pool.end();
    await database.drop();
    rmSync(before, { recursive: true, force: true });
  });

  const snapshotOutbox = async () =>
    (
      await pool.query<{ id: string; position: string; published: boolean; payload: unknown }>(
        'SELECT id, position, published_at IS NOT NULL AS published, payload FROM outbox_events ORDER BY position',
      )
    ).rows;

  test('keeps every row, position and place, and new rows continue after them', async () => {
    // Arrange
    const outboxBefore = hasOutbox ? await snapshotOutbox() : [];
    const inboxBefore = (
      await pool.query('SELECT consumer, event_id FROM processed_messages ORDER BY consumer, event_id')
    ).rows;

    // Act
    const { applied } = await migrate({
      connectionString: database.url,
      migrationsDir: join(root, service, 'prisma/migrations'),
    });

    // Assert
    expect(applied.filter((name) => name.startsWith(CONVERSION))).toHaveLength(1);
    const inboxAfter = (
      await pool.query('SELECT consumer, event_id FROM processed_messages ORDER BY consumer, event_id')
    ).rows;
    expect(inboxAfter).toEqual(inboxBefore);
    const { rows: streams } = await pool.query(
      'SELECT consumer, source, subject, sequence, since FROM inbox_streams',
    );
    expect(streams).toEqual([
      { consumer: ordered, source: '/order-service', subject: stream, sequence: 1, since: 0 },
    ]);
    const { rows: history } = await pool.query('SELECT consumer FROM inbox_unordered_history');
    expect(history).toEqual([{ consumer: unordered }]);
    if (hasOutbox) {
      expect(await snapshotOutbox()).toEqual(outboxBefore);
      // Rows from before today's midnight (UTC) are in the partition of history; today's in today's.
      const { rows: where } = await pool.query<{ partition: string; before_today: boolean; n: number }>(
        `SELECT tableoid::regclass::text AS partition,
                created_at < date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS before_today, count(*)::int AS n
           FROM outbox_events GROUP BY 1, 2 ORDER BY 1`,
      );
      expect(where.map((row) => [row.partition.replace(/\d{8}$/, 'today'), row.before_today])).toEqual(
        where.length === 1
          ? [['outbox_events_history', true]]
          : [
              ['outbox_events_history', true],
              ['outbox_events_ptoday', false],
            ],
      );
      expect(where.reduce((sum, row) => sum + row.n, 0)).toBe(outboxBefore.length);
      const { rows: next } = await pool.query<{ position: string }>(
        `INSERT INTO outbox_events (id, aggregate_type, aggregate_id, sequence, type, exchange, routing_key, payload)
         VALUES (gen_random_uuid(), 'order', 'new', 1, 'OrderCreated', 'orders', 'order.created', '{}') RETURNING position`,
      );
      expect(BigInt(next[0]!.position)).toBeGreaterThan(BigInt(outboxBefore.at(-1)!.position));
      const { rows: unpublished } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbox_events WHERE published_at IS NULL AND created_at < now() - interval '1 minute'`,
      );
      expect(unpublished[0]!.n).toBe(2);
    }
  });

  test('what the inbox recorded before still decides: duplicates stay duplicates, streams carry on', async () => {
    const db = createDatabase<InboxTable>(pool);
    const deliver = (consumer: string, eventId: string, place: EventPlace) =>
      inTransactionOnce(db, { consumer, eventId, place }, async () => 'applied' as const);

    // A redelivery of either converted event, at either consumer, is a duplicate.
    expect(await deliver(ordered, placedEvents[0]!, placeOf(stream, 0))).toBe('duplicate');
    expect(await deliver(ordered, placedEvents[1]!, placeOf(stream, 1))).toBe('duplicate');
    expect(await deliver(unordered, unplacedEvent, placeOf(randomUUID(), 3))).toBe('duplicate');
    // The converted stream's next event applies; one further ahead still waits its turn.
    await expect(deliver(ordered, randomUUID(), placeOf(stream, 3))).rejects.toThrow(/waits for/);
    expect(await deliver(ordered, randomUUID(), placeOf(stream, 2))).toBe('applied');
    // The consumer with unplaced history takes up a stream it has no place for where it finds it.
    const unknown = randomUUID();
    expect(await deliver(unordered, randomUUID(), placeOf(unknown, 5))).toBe('applied');
    expect(await deliver(unordered, randomUUID(), placeOf(unknown, 6))).toBe('applied');
  });

  test('the rows from before sit in one partition of history, which retention can drop whole', async () => {
    const { rows } = await pool.query<{ name: string; bound: string }>(
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'processed_messages'::regclass AND c.relname = 'processed_messages_history'`,
    );
    const today = new Date(Math.floor(Date.now() / DAY) * DAY).toISOString().slice(0, 10);
    expect(rows).toEqual([
      { name: 'processed_messages_history', bound: expect.stringContaining(`FROM (MINVALUE) TO ('${today}`) },
    ]);
  });
});
