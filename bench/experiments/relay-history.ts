/**
 * `npx tsx bench/experiments/relay-history.ts [--events=50000] [--history=2500000] [--rounds=3]
 *   [--checkpoint]` — why the relay drains slower over a history of published rows (issue 13,
 * bench phase 5).
 *
 * Two order-service databases of its own: one empty, one with `history` published rows in the
 * past ten days' partitions and today's, as bench phase 5 fills them. In each round N OrderCreated
 * rows are drained by the platform relay in-process, with its defaults (pipelined, as relay.js runs
 * it), from one database and then the other, to a scratch quorum queue: alternating, so that a
 * noisy machine weighs on both alike. Each drain prints its rate and the CPU per message of the
 * relay's Postgres backends, of the other Postgres processes (checkpointer, WAL writer, this
 * script's poll…), of RabbitMQ and of this process (the relay), and the database's block reads from
 * outside shared buffers per message. `--checkpoint` runs CHECKPOINT
 * before each drain; without it the drains meet whatever the fill left for the checkpointer, as
 * the bench's do. The drain's end is
 * polled every 20 ms with an EXISTS (`--count-poll`: with the count(*) the bench used). Needs a build (`npx turbo run build`). Drops its databases at the end.
 */
import path from 'node:path';
import {
  createBrokerConnection,
  createLogger,
  createOutboxRelay,
  ensurePartitions,
  migrate,
} from '@shop/platform';
import amqp from 'amqplib';
import { Client, Pool } from 'pg';
import { declareScratchQueue } from '../broker';
import { ROOT } from '../infra';
import { readProcessCpu } from '../machine-cpu';
import { envelopeTemplate, prefillOutbox } from '../phases/relay-drain';
import { sleep } from '../stats';
import { untilBackendsEnded } from '../wait';

const NAMES = { empty: 'shop_exp_relay_empty', history: 'shop_exp_relay_history' } as const;
type State = keyof typeof NAMES;
const PG = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
const AMQP = (process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672').replace(/\/$/, '');
const EXCHANGE = 'bench.relay-history';

const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);

interface Drain {
  rate: number;
  /** CPU µs per message. */
  backends: number;
  otherPostgres: number;
  rabbitmq: number;
  relay: number;
  /** The database's block reads from outside shared buffers per message (pg_stat_database). */
  reads: number;
}

async function main(): Promise<void> {
  const events = arg('events', 50_000);
  const history = arg('history', 2_500_000);
  const rounds = arg('rounds', 3);
  const checkpoint = process.argv.includes('--checkpoint');
  // The bench's phases 3 and 5 (before this experiment) counted the unpublished rows every 20 ms.
  const poll = process.argv.includes('--count-poll')
    ? 'SELECT count(*) = 0 AS done FROM outbox_events WHERE published_at IS NULL AND exchange = $1'
    : 'SELECT NOT EXISTS (SELECT 1 FROM outbox_events WHERE published_at IS NULL AND exchange = $1) AS done';
  const pools = {} as Record<State, Pool>;
  for (const state of Object.keys(NAMES) as State[]) {
    await admin(`DROP DATABASE IF EXISTS ${NAMES[state]} WITH (FORCE)`);
    await admin(`CREATE DATABASE ${NAMES[state]}`);
    await migrate({
      connectionString: `${PG}/${NAMES[state]}`,
      migrationsDir: path.join(ROOT, 'order-service', 'prisma', 'migrations'),
    });
    pools[state] = new Pool({ connectionString: `${PG}/${NAMES[state]}`, max: 4, application_name: 'setup' });
  }
  const raw = await amqp.connect(AMQP);
  const logger = createLogger('relay-history', 'warn');
  const connection = createBrokerConnection({ url: AMQP, logger });
  const results: Record<State, Drain[]> = { empty: [], history: [] };
  try {
    const channel = await raw.createChannel();
    await declareScratchQueue(channel, EXCHANGE);
    await connection.waitForConnect();
    const template = envelopeTemplate();
    console.log(`filling ${history} rows of history`);
    await fillHistory(pools.history, history, template);

    const drain = async (state: State): Promise<Drain> => {
      const pool = pools[state];
      await prefillOutbox(pool, template, events, EXCHANGE);
      if (checkpoint) await pool.query('CHECKPOINT');
      const probe = new Client({ connectionString: `${PG}/${NAMES[state]}`, application_name: 'probe' });
      await probe.connect();
      // The relay's own pool, ended after the drain: a backend's block counts reach pg_stat_database when it ends.
      const relayPool = new Pool({
        connectionString: `${PG}/${NAMES[state]}`,
        max: 4,
        application_name: 'relay',
      });
      const readsBefore = await blockReads(probe);
      const before = processCpu();
      const ownBefore = process.cpuUsage();
      const started = performance.now();
      const relay = createOutboxRelay({ pool: relayPool, connection, logger, listen: false });
      await relay.start();
      for (;;) {
        const { rows } = await probe.query<{ done: boolean }>(poll, [EXCHANGE]);
        if (rows[0].done) break;
        await sleep(20);
      }
      const seconds = (performance.now() - started) / 1000;
      const own = process.cpuUsage(ownBefore);
      const after = processCpu();
      const { rows: backends } = await probe.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'relay'`,
        [NAMES[state]],
      );
      await relay.stop();
      await relayPool.end();
      await untilBackendsEnded(
        probe,
        "the relay's backends ended",
        "application_name = 'relay'",
        [],
        2_000,
      ).catch(() => undefined);
      const reads = (await blockReads(probe)) - readsBefore;
      await probe.end();
      await channel.purgeQueue(EXCHANGE);
      const relayPids = new Set(backends.map((row) => String(row.pid)));
      const used = { backends: 0, otherPostgres: 0, rabbitmq: 0 };
      for (const [pid, { name, seconds: cpu }] of after) {
        const delta = cpu - (before.get(pid)?.seconds ?? 0);
        if (name === 'beam.smp') used.rabbitmq += delta;
        else if (relayPids.has(pid)) used.backends += delta;
        else used.otherPostgres += delta;
      }
      const per = (cpuSeconds: number) => (cpuSeconds / events) * 1e6;
      const result: Drain = {
        rate: events / seconds,
        backends: per(used.backends),
        otherPostgres: per(used.otherPostgres),
        rabbitmq: per(used.rabbitmq),
        relay: per((own.user + own.system) / 1e6),
        reads: reads / events,
      };
      console.log(`${state.padEnd(8)} ${show(result)}`);
      return result;
    };
    for (let round = 0; round < rounds; round++)
      for (const state of Object.keys(NAMES) as State[]) results[state].push(await drain(state));
    const medianOf = (state: State): Drain => {
      const runs = results[state];
      const pick = (key: keyof Drain) => median(runs.map((run) => run[key]));
      return {
        rate: pick('rate'),
        backends: pick('backends'),
        otherPostgres: pick('otherPostgres'),
        rabbitmq: pick('rabbitmq'),
        relay: pick('relay'),
        reads: pick('reads'),
      };
    };
    const empty = medianOf('empty');
    const withHistory = medianOf('history');
    console.log(`\nmedians of ${rounds} rounds (${events} events each):`);
    console.log(`empty    ${show(empty)}`);
    console.log(`history  ${show(withHistory)}`);
    console.log(`history ÷ empty: ${(withHistory.rate / empty.rate).toFixed(2)}`);
  } finally {
    await connection.close();
    await raw.close().catch(() => undefined);
    for (const state of Object.keys(NAMES) as State[]) {
      await pools[state].end();
      await admin(`DROP DATABASE IF EXISTS ${NAMES[state]} WITH (FORCE)`);
    }
  }
}

const show = (drain: Drain) =>
  `${drain.rate.toFixed(0).padStart(6)} msgs/s; CPU µs per message: relay backends ${drain.backends.toFixed(0)}, ` +
  `other Postgres ${drain.otherPostgres.toFixed(0)}, RabbitMQ ${drain.rabbitmq.toFixed(0)}, relay (Node) ${drain.relay.toFixed(0)}; ` +
  `blocks read from outside shared buffers per message ${drain.reads.toFixed(1)}`;

/** Published rows evenly from UTC midnight ten days ago until a minute ago, as bench phase 5 writes them. */
async function fillHistory(pool: Pool, count: number, template: Record<string, unknown>): Promise<void> {
  const now = Date.now();
  const fromDay = new Date(now - 10 * 86_400_000);
  const from = Date.UTC(fromDay.getUTCFullYear(), fromDay.getUTCMonth(), fromDay.getUTCDate()) / 1000;
  const to = (now - 60_000) / 1000;
  await ensurePartitions(pool, 'outbox_events', { from: new Date(from * 1000), to: new Date(to * 1000) });
  await pool.query(
    `INSERT INTO outbox_events (id, aggregate_type, aggregate_id, sequence, type, exchange, routing_key, payload, created_at, published_at)
     SELECT u, 'order', g::text, 0, 'OrderCreated', 'orders', 'order.created', jsonb_set($1::jsonb, '{id}', to_jsonb(u::text)), t, t + interval '5 ms'
       FROM (SELECT gen_random_uuid() AS u, g, to_timestamp($2::float8 + (g - 0.5) * $3::float8) AS t
               FROM generate_series(1, $4::int) AS g) AS s`,
    [JSON.stringify(template), from, (to - from) / count, count],
  );
  await pool.query('VACUUM ANALYZE outbox_events');
}

/** CPU seconds of each Postgres and RabbitMQ process so far, by pid (children that exited are not counted). */
function processCpu(): Map<string, { name: string; seconds: number }> {
  return new Map(
    readProcessCpu(['postgres', 'beam.smp']).map(({ pid, name, seconds }) => [pid, { name, seconds }]),
  );
}

async function blockReads(client: Client): Promise<number> {
  const { rows } = await client.query<{ read: string }>(
    'SELECT blks_read AS read FROM pg_stat_database WHERE datname = current_database()',
  );
  return Number(rows[0].read);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: `${PG}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
