/**
 * `npx tsx bench/experiments/relay-window.ts [events]` — how the outbox relay's batch size and
 * window move its drain rate, against raw confirm-channel publishing with the same window. Runs
 * the platform relay in-process (drainOnce in a loop: no polling, no process start-up) over the
 * bench's own database and vhost, and removes them afterwards. Needs a build (`npx turbo run build`).
 * Each line also gives the Node CPU per message of the relay and of the raw publisher.
 * `DEFAULT_ONLY=1` measures only the relay's defaults (RELAY_DEFAULTS), for before/after comparisons.
 */
import { createBrokerConnection, createLogger, createOutboxRelay, RELAY_DEFAULTS } from '@shop/platform';
import { Pool } from 'pg';
import { runConfirmPublishBaseline } from '../baselines/confirm-publish';
import { connectBroker, declareScratchQueue } from '../broker';
import {
  amqpUrl,
  createDatabases,
  createVhost,
  databaseUrl,
  dropDatabases,
  dropVhost,
  localBroker,
} from '../infra';
import { envelopeTemplate, prefillOutbox } from '../phases/relay-drain';

const EXCHANGE = 'bench.window';
const CONFIGS = process.env.DEFAULT_ONLY
  ? [{ batchSize: RELAY_DEFAULTS.batchSize, window: RELAY_DEFAULTS.window }]
  : [
      { batchSize: 500, window: 200 },
      { batchSize: 2000, window: 200 },
      { batchSize: 1000, window: 1000 },
      { batchSize: 5000, window: 1000 },
    ];

async function main(): Promise<void> {
  const events = Number(process.argv[2] ?? 20_000);
  await Promise.all([createDatabases(), createVhost()]);
  const pool = new Pool({ connectionString: databaseUrl('orders'), max: 4 });
  const logger = createLogger('relay-window', 'warn');
  const connection = createBrokerConnection({ url: amqpUrl(), logger });
  const raw = await connectBroker(localBroker);
  try {
    const channel = await raw.createChannel();
    await declareScratchQueue(channel, EXCHANGE);
    await connection.waitForConnect();
    const template = envelopeTemplate();
    for (const config of CONFIGS) {
      await prefillOutbox(pool, template, events, EXCHANGE);
      const relay = createOutboxRelay({ pool, connection, logger, listen: false, ...config });
      const started = performance.now();
      const relayCpu = process.cpuUsage();
      let published = 0;
      while (published < events) published += await relay.drainOnce();
      const relayRate = events / ((performance.now() - started) / 1000);
      const relayCpuUs = cpuMicros(process.cpuUsage(relayCpu)) / events;
      await relay.stop();
      await channel.purgeQueue(EXCHANGE);
      const rawCpu = process.cpuUsage();
      const baseline = await runConfirmPublishBaseline(raw, {
        exchange: EXCHANGE,
        routingKey: 'order.created',
        body: (id) => JSON.stringify({ ...template, id }),
        count: events,
        window: config.window,
      });
      const rawCpuUs = cpuMicros(process.cpuUsage(rawCpu)) / events;
      await channel.purgeQueue(EXCHANGE);
      console.log(
        `batch ${String(config.batchSize).padStart(5)} window ${String(config.window).padStart(5)}: ` +
          `relay ${relayRate.toFixed(0).padStart(6)}/s  raw ${baseline.messagesPerSecond.toFixed(0).padStart(6)}/s  ` +
          `ratio ${(relayRate / baseline.messagesPerSecond).toFixed(2)}  ` +
          `Node CPU per message: relay ${relayCpuUs.toFixed(1)} µs, raw ${rawCpuUs.toFixed(1)} µs`,
      );
    }
  } finally {
    await raw.close().catch(() => undefined);
    await connection.close();
    await pool.end();
    await Promise.all([dropDatabases(), dropVhost()]);
  }
}

const cpuMicros = (usage: NodeJS.CpuUsage) => usage.user + usage.system;

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
