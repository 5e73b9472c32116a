import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { inTransaction } from '../../src/database';
import { appendToOutbox, claimInbox, inTransactionOnce, type EventPlace } from '../../src/messaging';
import { claimSettings, RELAY_CLAIM_TEXT, RELAY_MARK_TEXT } from '../../src/messaging/outbox-relay';
import { createMetrics } from '../../src/observability';
import { createPgPool } from '../../src/pg';
import { watchPartitions } from '../../src/observability/partition-metrics';
import {
  createPartitionMaintenance,
  dropExpiredPartitions,
  ensurePartitions,
  listPartitions,
  type PartitionedTable,
} from '../../src/partitions';
import { buildOrderCreated, capturingLogger, eventually } from '../../src/testing';
import { createMessagingWorld, type MessagingWorld } from '../messaging/support/fixtures';

const DAY = 86_400_000;
/** Midnight (UTC) `days` from today's. */
const midnight = (days: number) => new Date(Math.floor(Date.now() / DAY) * DAY + days * DAY);
const dayName = (table: PartitionedTable, days: number) =>
  `${table}_p${midnight(days).toISOString().slice(0, 10).replace(/-/g, '')}`;

describe('daily partitions of the outbox and the inbox log', () => {
  let world: MessagingWorld;
  beforeEach(async () => {
    world = await createMessagingWorld();
  });
  afterEach(() => world.teardown());

  const names = async (table: PartitionedTable) =>
    (await listPartitions(world.pool, table)).map((p) => p.name);

  /** An outbox row created at `at`, published or not. */
  async function outboxRowAt(at: Date, published: boolean): Promise<string> {
    const id = randomUUID();
    await world.pool.query(
      `INSERT INTO outbox_events (id, aggregate_type, aggregate_id, sequence, type, exchange, routing_key, payload, created_at, published_at)
       VALUES ($1::uuid, 'order', $1::text, 1, 'OrderCreated', 'orders', 'order.created', '{}', $2, CASE WHEN $3 THEN $2::timestamptz END)`,
      [id, at, published],
    );
    return id;
  }

  const partitionOf = async (table: PartitionedTable, column: string, id: string) =>
    (
      await world.pool.query<{ partition: string }>(
        `SELECT tableoid::regclass::text AS partition FROM ${table} WHERE ${column} = $1`,
        [id],
      )
    ).rows.map((row) => row.partition);

  test('a new database takes rows at once: today and the next three days (UTC) have partitions', async () => {
    for (const table of ['outbox_events', 'processed_messages'] as const) {
      expect(await names(table)).toEqual([0, 1, 2, 3].map((days) => dayName(table, days)));
    }
  });

  test('ensurePartitions creates only the missing days, and a row lands in the partition of its own day', async () => {
    // Act
    const created = await ensurePartitions(world.pool, 'outbox_events', {
      from: midnight(-2),
      to: midnight(4),
    });
    const again = await ensurePartitions(world.pool, 'outbox_events', {
      from: midnight(-2),
      to: midnight(4),
    });
    const lastOfYesterday = await outboxRowAt(new Date(midnight(0).getTime() - 1), true);
    const firstOfToday = await outboxRowAt(midnight(0), true);

    // Assert
    expect([created, again]).toEqual([3, 0]); // two days back and the fifth ahead
    expect(await names('outbox_events')).toEqual(
      [-2, -1, 0, 1, 2, 3, 4].map((days) => dayName('outbox_events', days)),
    );
    expect(await partitionOf('outbox_events', 'id', lastOfYesterday)).toEqual([dayName('outbox_events', -1)]);
    expect(await partitionOf('outbox_events', 'id', firstOfToday)).toEqual([dayName('outbox_events', 0)]);
  });

  test('retention drops whole days past it and leaves the later days and their rows untouched', async () => {
    // Arrange: published rows on each of the last five days, and one today
    await ensurePartitions(world.pool, 'outbox_events', { from: midnight(-5), to: midnight(-1) });
    for (const days of [-5, -4, -3, -2, -1])
      await outboxRowAt(new Date(midnight(days).getTime() + 3_600_000), true);
    const today = await outboxRowAt(new Date(), true);

    // Act: a retention of two days
    const result = await dropExpiredPartitions(world.pool, 'outbox_events', 2 * 86_400);

    // Assert: a day goes once its last moment is two days old
    expect(result).toEqual({ dropped: [-5, -4, -3].map((days) => dayName('outbox_events', days)), kept: [] });
    expect(await names('outbox_events')).toEqual(
      [-2, -1, 0, 1, 2, 3].map((days) => dayName('outbox_events', days)),
    );
    const { rows } = await world.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox_events');
    expect(rows[0]!.n).toBe(3);
    expect(await partitionOf('outbox_events', 'id', today)).toEqual([dayName('outbox_events', 0)]);
  });

  test('an outbox day that still holds an unpublished row is kept past retention, and dropped once it is published', async () => {
    // Arrange
    await ensurePartitions(world.pool, 'outbox_events', { from: midnight(-4), to: midnight(-1) });
    await outboxRowAt(new Date(midnight(-4).getTime() + 60_000), true);
    const waiting = await outboxRowAt(new Date(midnight(-4).getTime() + 120_000), false);
    const metrics = createMetrics();
    const unwatch = watchPartitions(metrics, 'test-service', async () => [
      { table: 'outbox_events', partitions: await listPartitions(world.pool, 'outbox_events', 86_400) },
    ]);
    const { logger, lines } = capturingLogger();

    // Act
    const whileUnpublished = await dropExpiredPartitions(world.pool, 'outbox_events', 86_400, logger);
    const expiredGauge = await metrics.registry.getSingleMetric('db_partitions_expired')!.get();
    await world.pool.query('UPDATE outbox_events SET published_at = now() WHERE id = $1', [waiting]);
    const oncePublished = await dropExpiredPartitions(world.pool, 'outbox_events', 86_400, logger);
    unwatch();

    // Assert
    expect(whileUnpublished.kept).toEqual([
      { name: dayName('outbox_events', -4), reason: 'holds unpublished outbox rows' },
    ]);
    expect(whileUnpublished.dropped).toEqual([-3, -2].map((days) => dayName('outbox_events', days)));
    expect(expiredGauge.values).toEqual([
      expect.objectContaining({ labels: { service: 'test-service', table: 'outbox_events' }, value: 1 }),
    ]);
    expect(lines).toContainEqual(
      expect.objectContaining({
        message: 'retention kept a partition past its time',
        partition: dayName('outbox_events', -4),
      }),
    );
    expect(oncePublished).toEqual({ dropped: [dayName('outbox_events', -4)], kept: [] });
  });

  test('two instances running retention at once drop each day once, and neither fails', async () => {
    await ensurePartitions(world.pool, 'processed_messages', { from: midnight(-6), to: midnight(-1) });
    const second = new Pool({ connectionString: world.db.url, max: 2 });
    try {
      const results = await Promise.all([
        dropExpiredPartitions(world.pool, 'processed_messages', 86_400),
        dropExpiredPartitions(second, 'processed_messages', 86_400),
      ]);

      const dropped = results.flatMap((result) => result.dropped).sort();
      expect(dropped).toEqual([-6, -5, -4, -3, -2].map((days) => dayName('processed_messages', days)));
    } finally {
      await second.end();
    }
  });

  test('the maintenance a service runs creates the days ahead and drops the days past retention', async () => {
    await ensurePartitions(world.pool, 'processed_messages', { from: midnight(-3), to: midnight(-1) });
    // The pool a service has (pipeline mode): DETACH … CONCURRENTLY must not land in a transaction block.
    const servicePool = createPgPool(world.db.url, { max: 2 });
    const maintenance = createPartitionMaintenance({
      pool: servicePool,
      logger: capturingLogger().logger,
      tables: [{ table: 'processed_messages', retentionSeconds: 86_400 }],
      daysAhead: 5,
    });

    await maintenance.start();
    await maintenance.stop();
    await servicePool.end();

    expect(await names('processed_messages')).toEqual(
      [-1, 0, 1, 2, 3, 4, 5].map((days) => dayName('processed_messages', days)),
    );
  });

  test("the relay's claim reads no partition's rows but the unpublished ones, however long the history", async () => {
    // Arrange: ten days of published history, a thousand rows a day, and one unpublished row
    await ensurePartitions(world.pool, 'outbox_events', { from: midnight(-10), to: midnight(-1) });
    await world.pool.query(
      `INSERT INTO outbox_events (id, aggregate_type, aggregate_id, sequence, type, exchange, routing_key, payload, created_at, published_at)
       SELECT gen_random_uuid(), 'order', i::text, 1, 'OrderCreated', 'orders', 'order.created', '{}',
              now() - (i % 10 + 1) * interval '1 day', now() - (i % 10 + 1) * interval '1 day'
         FROM generate_series(1, 10000) i`,
    );
    await outboxRowAt(new Date(), false);
    await world.pool.query('ANALYZE outbox_events');

    // Act
    const plans = await relayClaimPlans(world.pool);

    // Assert: every day of history is read only through its copies of the partial indexes on
    // unpublished rows (named after their columns), which hold nothing there; only today's and
    // later days, nearly empty here, may be read whole.
    const history = new Set(
      [-10, -9, -8, -7, -6, -5, -4, -3, -2, -1].map((days) => dayName('outbox_events', days)),
    );
    for (const plan of plans) {
      const historyScans = scansIn(plan).filter((scan) => history.has(scan['Relation Name']!));
      expect(new Set(historyScans.map((scan) => scan['Relation Name']))).toEqual(history);
      for (const scan of historyScans) {
        expect(scan['Node Type']).toBe('Index Scan');
        expect(scan['Index Name']).toMatch(/_position_idx$/);
      }
    }
  });

  test("the relay's claim reads today's rows only through the unpublished indexes, however many of them wait", async () => {
    // Arrange: today's partition as a drain finds it — rows published earlier today and as many
    // again waiting, whose places on disk are out of position order, as rows that filled the space
    // VACUUM freed are (positions given out of order here). With such a table the planner costed
    // the wait check's walk above a scan of the whole day (decision 42).
    await world.pool.query(
      `INSERT INTO outbox_events (id, position, aggregate_type, aggregate_id, sequence, type, exchange, routing_key, payload, published_at)
       OVERRIDING SYSTEM VALUE
       SELECT gen_random_uuid(), place, 'order', i::text, 1, 'OrderCreated', 'orders', 'order.created', '{}',
              CASE WHEN place % 2 = 0 THEN now() END
         FROM generate_series(1, 20000) i, LATERAL (SELECT (i * 7919) % 20000 + 1 AS place) AS scattered`,
    );
    await world.pool.query('ANALYZE outbox_events');

    // Act
    const plans = await relayClaimPlans(world.pool);

    // Assert: both walks of today's partition (the claim's and the wait check's) go down its
    // indexes on unpublished rows
    const today = dayName('outbox_events', 0);
    for (const plan of plans) {
      const todayScans = scansIn(plan).filter((scan) => scan['Relation Name'] === today);
      expect(todayScans.length).toBeGreaterThanOrEqual(2);
      for (const scan of todayScans) {
        expect(scan['Node Type']).toBe('Index Scan');
        expect(scan['Index Name']).toMatch(/_position_idx$/);
      }
    }
  });

  test("marking a batch published reads no day's partition but the days of its rows", async () => {
    // Arrange: days of history behind today, the days ahead that maintenance keeps, and a batch of
    // today's rows as the relay claims them (ids and whole-second creation times)
    await ensurePartitions(world.pool, 'outbox_events', { from: midnight(-3), to: midnight(-1) });
    const batch = (
      await world.pool.query<{ id: string; created_epoch: string }>(
        `INSERT INTO outbox_events (id, aggregate_type, aggregate_id, sequence, type, exchange, routing_key, payload)
         SELECT gen_random_uuid(), 'order', i::text, 1, 'OrderCreated', 'orders', 'order.created', '{}'
           FROM generate_series(1, 100) i
         RETURNING id, floor(extract(epoch FROM created_at))::bigint AS created_epoch`,
      )
    ).rows;
    const epochs = batch.map((row) => Number(row.created_epoch));

    // Act: the relay's mark, in a transaction with the claim's settings (no sequential scans)
    const client = await world.pool.connect();
    let plan: PlanNode;
    try {
      await client.query(`BEGIN; ${claimSettings(30_000)}`);
      await client.query(`PREPARE mark(uuid[], float8, float8) AS ${RELAY_MARK_TEXT}`);
      const ids = `{${batch.map((row) => row.id).join(',')}}`;
      const { rows } = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
        `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE mark('${ids}', ${Math.min(...epochs)}, ${Math.max(...epochs) + 1})`,
      );
      plan = rows[0]!['QUERY PLAN'][0]!.Plan;
      await client.query('ROLLBACK');
    } finally {
      client.release(true);
    }

    // Assert: only today's partition is looked at (the days ahead have empty indexes, but a probe
    // into each of them for every id of the batch is still work)
    const scanned = new Set(scansIn(plan).map((scan) => scan['Relation Name']));
    expect([...scanned].filter((name) => name !== 'outbox_events')).toEqual([dayName('outbox_events', 0)]);
  });

  test("the relay's claim skips rows published since the last VACUUM instead of reading them again at every claim", async () => {
    // Arrange: 20 000 rows of today published as the relay marks them (each leaves its unpublished
    // version's index entries behind, for VACUUM to remove; none runs), and one row left to publish
    await world.pool.query(
      `INSERT INTO outbox_events (id, aggregate_type, aggregate_id, sequence, type, exchange, routing_key, payload)
       SELECT gen_random_uuid(), 'order', i::text, 1, 'OrderCreated', 'orders', 'order.created', '{}'
         FROM generate_series(1, 20000) i`,
    );
    const {
      rows: [{ xid }],
    } = await world.pool.query<{ xid: string }>(
      `WITH published AS (UPDATE outbox_events SET published_at = now() WHERE published_at IS NULL RETURNING 1)
       SELECT pg_current_xact_id()::text AS xid FROM published LIMIT 1`,
    );
    await outboxRowAt(new Date(), false);
    // A published row's old version is dead to every reader only once every transaction on the
    // server that began before it was published has ended (other test files' included); until
    // then no scan may flag its entries.
    await eventually(
      async () =>
        (
          await world.pool.query<{ passed: boolean }>(
            'SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint > $1::bigint AS passed',
            [xid],
          )
        ).rows[0]!.passed,
      { timeoutMs: 60_000, description: 'every transaction older than the publishing ended' },
    );

    // Act: two claims as the relay makes them (its statement, in a transaction with its settings)
    const client = await world.pool.connect();
    const buffers: number[] = [];
    try {
      await client.query(`PREPARE claim(int) AS ${RELAY_CLAIM_TEXT}`);
      for (let claim = 0; claim < 2; claim++) {
        await client.query(`BEGIN; ${claimSettings(30_000)}`);
        const { rows } = await client.query<{ 'QUERY PLAN': { Plan: PlanNode & BufferCounts }[] }>(
          'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE claim(1000)',
        );
        await client.query('ROLLBACK');
        const plan = rows[0]!['QUERY PLAN'][0]!.Plan;
        buffers.push(plan['Shared Hit Blocks'] + plan['Shared Read Blocks']);
      }
    } finally {
      client.release(true);
    }

    // Assert: the first claim visits the published rows once; the next passes their entries by,
    // a page of index entries at a time, instead of reading every published row's page again
    expect(buffers[1]).toBeLessThan(20_000 / 100);
  });
});

interface BufferCounts {
  'Shared Hit Blocks': number;
  'Shared Read Blocks': number;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}
/**
 * The relay's own claim as the relay runs it (in a transaction with its settings), planned for its
 * batch and as the generic plan: Postgres may use either.
 */
async function relayClaimPlans(pool: Pool): Promise<PlanNode[]> {
  const client = await pool.connect();
  const plans: PlanNode[] = [];
  try {
    await client.query(`PREPARE claim(int) AS ${RELAY_CLAIM_TEXT}`);
    for (const mode of ['force_custom_plan', 'force_generic_plan']) {
      await client.query(`BEGIN; ${claimSettings(30_000)}; SET LOCAL plan_cache_mode = ${mode}`);
      const { rows } = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
        'EXPLAIN (FORMAT JSON) EXECUTE claim(1000)',
      );
      await client.query('ROLLBACK');
      plans.push(rows[0]!['QUERY PLAN'][0]!.Plan);
    }
  } finally {
    client.release(true);
  }
  return plans;
}
const scansIn = (node: PlanNode): PlanNode[] => [
  ...(node['Relation Name'] ? [node] : []),
  ...(node.Plans ?? []).flatMap(scansIn),
];

describe('the inbox across partitions', () => {
  let world: MessagingWorld;
  beforeAll(async () => {
    world = await createMessagingWorld();
    await ensurePartitions(world.pool, 'processed_messages', { from: midnight(-5), to: midnight(-1) });
  });
  afterAll(() => world.teardown());

  const consumer = () => `test.partitions-${randomUUID()}`;
  const placeOf = (subject: string, sequence: number, causeId: string | null = null): EventPlace => ({
    source: '/test',
    subject,
    sequence,
    opensStream: sequence === 1,
    causeId,
  });
  /** Moves a consumer's log of an event to `days` ago, as if it had been taken in then. */
  const loggedDaysAgo = (name: string, eventId: string, days: number) =>
    world.pool.query(
      `UPDATE processed_messages SET processed_at = now() - $3 * interval '1 day' WHERE consumer = $1 AND event_id = $2`,
      [name, eventId, days],
    );

  test('a redelivery is still a duplicate once the day that logged its first delivery has been dropped', async () => {
    // Arrange
    const name = consumer();
    const subject = randomUUID();
    const first = { consumer: name, eventId: randomUUID(), place: placeOf(subject, 1) };
    expect(await inTransactionOnce(world.database, first, async () => 'applied')).toBe('applied');
    await loggedDaysAgo(name, first.eventId, 4);
    const { dropped } = await dropExpiredPartitions(world.pool, 'processed_messages', 3 * 86_400);
    expect(dropped).toContain(dayName('processed_messages', -4));

    // Act
    const redelivery = await inTransactionOnce(world.database, first, async () => 'applied');
    const next = await inTransactionOnce(
      world.database,
      { consumer: name, eventId: randomUUID(), place: placeOf(subject, 2) },
      async () => 'applied',
    );

    // Assert
    expect(redelivery).toBe('duplicate');
    expect(next).toBe('applied');
  });

  test('an event whose cause was logged on an earlier day finds it there', async () => {
    // Arrange
    const name = consumer();
    const cause = buildOrderCreated();
    await claimInbox(world.database, { consumer: name, eventId: cause.id, place: placeOf(randomUUID(), 1) });
    await loggedDaysAgo(name, cause.id, 1);

    // Act
    const effect = await inTransaction(world.database, (tx) =>
      claimInbox(tx, { consumer: name, eventId: randomUUID(), place: placeOf(randomUUID(), 1, cause.id) }),
    );

    // Assert
    expect(effect).toBe(true);
  });

  test('two deliveries of one event at once: one applies, the other is a duplicate', async () => {
    const name = consumer();
    const subject = randomUUID();
    await claimInbox(world.database, { consumer: name, eventId: randomUUID(), place: placeOf(subject, 1) });
    const second = { consumer: name, eventId: randomUUID(), place: placeOf(subject, 2) };

    const outcomes = await Promise.all(
      [1, 2].map(() =>
        inTransactionOnce(world.database, second, async (tx) => {
          await appendToOutbox(tx, [buildOrderCreated()], { aggregateType: 'order' });
          return 'applied';
        }),
      ),
    );

    expect(outcomes.sort()).toEqual(['applied', 'duplicate']);
    const { rows } = await world.pool.query<{ sequence: number }>(
      'SELECT sequence FROM inbox_streams WHERE consumer = $1 AND subject = $2',
      [name, subject],
    );
    expect(rows).toEqual([{ sequence: 2 }]);
  });
});
