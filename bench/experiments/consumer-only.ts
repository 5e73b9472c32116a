/**
 * `npx tsx bench/experiments/consumer-only.ts [events] [--cpu-prof]` — phase 4 alone (after a
 * `turbo run build`): starts the bench system, runs the consumer-throughput phase and its raw
 * baseline `ROUNDS` times, prints events/s, the ratio and the product service's CPU per event each time,
 * and the notification service's catch-up against its raw inserts, and tears everything down.
 * For iterating on the consumers without the full bench.
 */
import { localBroker } from '../infra';
import { consumerThroughput } from '../phases/consumer-throughput';
import { createResourceSampler } from '../resources';
import { settingsFor } from '../settings';
import { startBenchSystem } from '../system';

async function run(): Promise<void> {
  const events = Number(process.argv[2] ?? 3000);
  const rounds = Number(process.env.ROUNDS ?? 2);
  const profile = process.argv.includes('--cpu-prof');
  const settings = { ...settingsFor(false), consumerEvents: events };
  const sampler = createResourceSampler();
  const system = await startBenchSystem(sampler, {
    logLevel: 'warn',
    cpuProfile: profile ? 'product-service' : undefined,
    broker: localBroker,
    instances: 1,
  });
  try {
    for (let round = 0; round < rounds; round++) {
      const before = sampler.cpuSnapshot()['product-service'] ?? 0;
      const result = await consumerThroughput(system, settings);
      const cpuMs = (((sampler.cpuSnapshot()['product-service'] ?? 0) - before) * 1000) / events;
      await system.db.products.query('DELETE FROM stock_reservations WHERE order_id >= 1000000000');
      await system.db.baselineProducts.query(
        'DELETE FROM stock_reservations; DELETE FROM processed_messages; DELETE FROM inbox_streams',
      );
      await system.db.baselineNotifications.query(
        'DELETE FROM notifications; DELETE FROM processed_messages; DELETE FROM inbox_streams',
      );
      console.log(
        `round ${round + 1}: shop ${result.eventsPerSecond.toFixed(0)}/s, raw ${result.baseline.eventsPerSecond.toFixed(0)}/s, ratio ${result.ratio.toFixed(2)}, product-service CPU ${cpuMs.toFixed(3)} ms/event (start-up included); notification ${result.notificationEventsPerSecond.toFixed(0)}/s, raw ${result.notificationBaseline.eventsPerSecond.toFixed(0)}/s, ratio ${result.notificationRatio.toFixed(2)}`,
      );
    }
  } finally {
    await system.teardown(profile);
    if (profile) console.log(`profiles in ${system.logDir}`);
  }
}

run().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error);
    process.exit(1);
  },
);
