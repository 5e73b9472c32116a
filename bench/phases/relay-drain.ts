import { buildEvent, RELAY_DEFAULTS } from '@shop/platform';
import { Client, type Pool } from 'pg';
import { connectBroker, declareScratchQueue } from '../broker';
import { databaseUrl } from '../infra';
import { runConfirmPublishBaseline } from '../baselines/confirm-publish';
import { coresUsed, readMachineCpu, type CoresUsed } from '../machine-cpu';
import { bar, step } from '../progress';
import { settle } from '../settle';
import type { ResourceSampler } from '../resources';
import type { BenchSettings } from '../settings';
import { ratio } from '../stats';
import type { BenchSystem } from '../system';
import { untilBackendsEnded, waitUntil } from '../wait';

/** The relay's own default window (relay.js passes no tuning), so the baseline publishes with the same one. */
export const RELAY_WINDOW = RELAY_DEFAULTS.window;
const EXCHANGE = 'bench.drain';
const QUEUE = 'bench.drain';
const ROUTING_KEY = 'order.created';

export interface DrainRun {
  relays: number;
  events: number;
  /** From the first claim to the last row marked published. */
  messagesPerSecond: number;
  /** From spawning the relay process(es) to the last row marked published (includes start-up). */
  wallSeconds: number;
  /** Over the wall time: where the machine's CPU went. `relays` are the relay processes together. */
  cores: CoresUsed & { relays: number };
  /**
   * Per message drained, the order database's block accesses (pg_stat_database, every backend of
   * it): `hit` in shared buffers, `read` from outside them (the OS cache or the disk).
   */
  blocks: { hit: number; read: number };
}

export interface RelayDrain {
  window: number;
  runs: DrainRun[];
  baseline: { messagesPerSecond: number; seconds: number; cores: CoresUsed };
  ratio: number;
}

/**
 * Phase 3: the order service is stopped (its in-process relay with it); N OrderCreated-shaped
 * rows go into its outbox, addressed to a scratch exchange bound to a scratch quorum queue so the
 * services' consumers never see them. Then one stand-alone relay process drains them, then two
 * relays drain a fresh N. Baseline: raw confirm-channel publishing of N such messages with the
 * relay's window. Each run must deliver every message to the queue.
 */
export async function relayDrain(
  system: BenchSystem,
  settings: BenchSettings,
  sampler: ResourceSampler,
): Promise<RelayDrain> {
  const connection = await connectBroker(system.broker);
  const channel = await connection.createChannel();
  try {
    await declareScratchQueue(channel, EXCHANGE, QUEUE);
    // The drains get the box to themselves: what the previous phase left (the product and
    // notification services catching up, the order relay's tail) is worked off first.
    if (system.isRunning('order-service')) await settle(system, settings.settleTimeoutMs);
    if (system.isRunning('order-service')) {
      step('stopping the order service (and its in-process relay) for the drain');
      await system.stop('order-service');
    }
    const template = envelopeTemplate();
    const runs: DrainRun[] = [];
    for (const relays of [1, 2]) {
      await prefillOnItsOwnConnection(system.db.orders, template, settings.drainEvents);
      // As the set-up's CHECKPOINT does for Postgres: what earlier phases left in RabbitMQ's log is
      // written out before the drain, not during it.
      await system.broker.flushQuorumLog();
      step(`relay drain: ${settings.drainEvents} outbox rows, ${relays} relay process(es)`);
      const run = await drain(system, channel, relays, settings, sampler);
      await expectQueueDepth(channel, settings.drainEvents, `relay drain with ${relays} relay(s)`);
      runs.push(run);
      step(
        `  ${relays} relay(s): ${run.messagesPerSecond.toFixed(0)} msgs/s (wall ${run.wallSeconds.toFixed(1)} s incl. start-up); ` +
          `${showCores(run.cores)}; blocks per message: ${run.blocks.hit.toFixed(1)} hit, ${run.blocks.read.toFixed(1)} read`,
      );
    }

    step(
      `baseline: raw amqplib confirm-channel publish of ${settings.drainEvents} messages, window ${RELAY_WINDOW}`,
    );
    await system.broker.flushQuorumLog();
    const baselineBefore = readMachineCpu();
    const published = await runConfirmPublishBaseline(connection, {
      exchange: EXCHANGE,
      routingKey: ROUTING_KEY,
      body: (id) => JSON.stringify({ ...template, id }),
      count: settings.drainEvents,
      window: RELAY_WINDOW,
    });
    const baseline = { ...published, cores: coresUsed(baselineBefore) };
    await expectQueueDepth(channel, settings.drainEvents, 'raw publish baseline');
    step(`  raw: ${baseline.messagesPerSecond.toFixed(0)} msgs/s; ${showCores(baseline.cores)}`);
    return {
      window: RELAY_WINDOW,
      runs,
      baseline,
      ratio: ratio(runs[0].messagesPerSecond, baseline.messagesPerSecond),
    };
  } finally {
    await channel.deleteQueue(QUEUE).catch(() => undefined);
    await channel.deleteExchange(EXCHANGE).catch(() => undefined);
    await connection.close().catch(() => undefined);
  }
}

/** A real OrderCreated envelope (built with the platform's builder), used as every row's payload. */
export function envelopeTemplate(): Record<string, unknown> {
  return buildEvent({
    type: 'OrderCreated',
    source: '/order-service',
    subject: 1,
    sequence: 0,
    correlationId: '00000000-0000-4000-8000-000000000000',
    data: {
      order_id: 1,
      user_id: 7,
      status: 'pending',
      total_amount: '205.48',
      items: [
        {
          product_id: 1,
          product_name: 'Wireless Mouse',
          product_price: '25.99',
          quantity: 2,
          subtotal: '51.98',
        },
        {
          product_id: 2,
          product_name: 'Mechanical Keyboard',
          product_price: '153.50',
          quantity: 1,
          subtotal: '153.50',
        },
      ],
      created_at: new Date().toISOString(),
    },
  }) as unknown as Record<string, unknown>;
}

/**
 * `prefillOutbox` on a connection of its own, closed when it is done: a backend hands its block
 * counts to pg_stat_database in its own time (or when it ends), and the set-up's reads of the whole
 * outbox (its DELETE, VACUUM and ANALYZE) must not land in the drain's figures.
 */
async function prefillOnItsOwnConnection(
  orders: Pool,
  template: Record<string, unknown>,
  count: number,
): Promise<void> {
  const setup = new Client({ connectionString: databaseUrl('orders') });
  await setup.connect();
  const pid = (setup as Client & { processID: number }).processID;
  try {
    await prefillOutbox(setup, template, count);
  } finally {
    await setup.end();
  }
  await untilBackendsEnded(orders, 'the set-up connection ended', 'pid = $1', [pid], 5_000);
}

/** Replaces the outbox rows addressed to `exchange` with `count` fresh ones (payload = template, own ids). */
export async function prefillOutbox(
  orders: Pick<Pool, 'query'>,
  template: Record<string, unknown>,
  count: number,
  exchange = EXCHANGE,
): Promise<void> {
  await orders.query('DELETE FROM outbox_events WHERE exchange = $1', [exchange]);
  await orders.query('VACUUM ANALYZE outbox_events');
  await orders.query(
    `INSERT INTO outbox_events (id, aggregate_type, aggregate_id, sequence, type, exchange, routing_key, payload)
     SELECT u, 'order', g::text, 0, 'OrderCreated', $2, $3, jsonb_set($1::jsonb, '{id}', to_jsonb(u::text))
       FROM (SELECT gen_random_uuid() AS u, g FROM generate_series(1, $4::int) AS g) AS s`,
    [JSON.stringify(template), exchange, ROUTING_KEY, count],
  );
  await orders.query('ANALYZE outbox_events');
  // Written out before the drain starts, so the drain does not pay for the fill's writes (the
  // checkpointer's, the kernel's write-back) and every drain starts from the same state.
  await orders.query('CHECKPOINT');
}

const showCores = (cores: CoresUsed & { relays?: number }) =>
  `busy cores: RabbitMQ ${cores.rabbitmq.toFixed(2)}, Postgres ${cores.postgres.toFixed(2)}, ` +
  `${cores.relays === undefined ? `publisher (bench) ${cores.bench.toFixed(2)}` : `relay ${cores.relays.toFixed(2)}`}, ` +
  `machine ${cores.machine.toFixed(2)}`;

async function drain(
  system: BenchSystem,
  channel: import('amqplib').Channel,
  relays: number,
  settings: BenchSettings,
  sampler: ResourceSampler,
): Promise<DrainRun> {
  const orders = system.db.orders;
  const blocksBefore = await databaseBlocks(orders);
  const spawnedAt = Date.now();
  const machineBefore = readMachineCpu();
  const relayCpuBefore = sampler.cpuSnapshot()['order-relay'] ?? 0;
  const processes = Array.from({ length: relays }, () => system.spawnOrderRelay());
  const progress = bar(`${relays} relay(s)`, settings.drainEvents);
  const relayAlive = () => {
    const dead = processes.find((process) => process.exited);
    if (dead) throw new Error(`a relay exited during the drain; see ${dead.logFile}`);
  };
  try {
    // Watched from the broker's side while the relays work: a question to the order database (a
    // count of the rows left, even whether one is left) could be planned as a scan of today's
    // partition, which history makes big: 30 000 blocks a poll, more than the relays read
    // (decision 40).
    await waitUntil(
      'every message in the scratch queue',
      async () => {
        relayAlive();
        const depth = (await channel.checkQueue(QUEUE)).messageCount;
        progress.update(depth);
        return depth;
      },
      (depth) => depth >= settings.drainEvents,
      settings.settleTimeoutMs,
      20,
    );
    // Then the database, for the last row marked published (a moment after its confirm): whether a
    // row is left, asked as the relay's claim asks, in position order down the unpublished index.
    const done = await waitUntil(
      'outbox drained',
      async () => {
        relayAlive();
        const { rows } = await orders.query<{ drained: boolean; now_ms: string }>(
          `SELECT (SELECT position FROM outbox_events WHERE published_at IS NULL AND exchange = $1
                    ORDER BY position LIMIT 1) IS NULL AS drained,
                  extract(epoch FROM clock_timestamp()) * 1000 AS now_ms`,
          [EXCHANGE],
        );
        return { drained: rows[0].drained, nowMs: Number(rows[0].now_ms) };
      },
      (state) => state.drained,
      settings.settleTimeoutMs,
      5,
    );
    const cores = coresUsed(machineBefore);
    const relayCpu = (sampler.cpuSnapshot()['order-relay'] ?? 0) - relayCpuBefore;
    progress.stop();
    // A backend's block counts reach pg_stat_database when it ends: the relays' end with their
    // processes, a moment after them (up to 2 s is waited for; the bench's own pool may have opened one).
    await Promise.all(processes.map((process) => process.stop()));
    await untilBackendsEnded(
      orders,
      "the relays' backends ended",
      'backend_start >= to_timestamp($1::float8 / 1000) AND pid <> pg_backend_pid()',
      [spawnedAt],
      2_000,
    ).catch(() => undefined);
    const blocksAfter = await databaseBlocks(orders);
    // After the block counts, as it reads every day's rows; and its own counts are handed over as
    // the statement ends, not up to 10 s later, when the next drain may be counting.
    const { rows } = await orders.query<{ first_ms: string }>(
      `SELECT pg_stat_force_next_flush(),
              extract(epoch FROM min(published_at)) * 1000 AS first_ms FROM outbox_events WHERE exchange = $1`,
      [EXCHANGE],
    );
    const seconds = (done.nowMs - Number(rows[0].first_ms)) / 1000;
    const perMessage = (key: 'hit' | 'read') => (blocksAfter[key] - blocksBefore[key]) / settings.drainEvents;
    return {
      cores: { ...cores, relays: relayCpu / cores.seconds },
      blocks: { hit: perMessage('hit'), read: perMessage('read') },
      relays,
      events: settings.drainEvents,
      messagesPerSecond: settings.drainEvents / seconds,
      wallSeconds: (done.nowMs - spawnedAt) / 1000,
    };
  } finally {
    progress.stop();
    await Promise.all(processes.map((process) => process.stop()));
  }
}

async function databaseBlocks(pool: Pool): Promise<{ hit: number; read: number }> {
  const { rows } = await pool.query<{ hit: string; read: string }>(
    'SELECT blks_hit AS hit, blks_read AS read FROM pg_stat_database WHERE datname = current_database()',
  );
  return { hit: Number(rows[0].hit), read: Number(rows[0].read) };
}

async function expectQueueDepth(
  channel: import('amqplib').Channel,
  expected: number,
  what: string,
): Promise<void> {
  const depth = await waitUntil(
    'scratch queue filled',
    async () => (await channel.checkQueue(QUEUE)).messageCount,
    (n) => n >= expected,
    10_000,
  ).catch(async () => (await channel.checkQueue(QUEUE)).messageCount);
  if (depth < expected)
    throw new Error(`${what}: the broker holds ${depth} of ${expected} messages — events were lost`);
  if (depth > expected)
    console.log(`  note: ${what} delivered ${depth - expected} duplicate(s) (at-least-once)`);
  await channel.purgeQueue(QUEUE);
}
