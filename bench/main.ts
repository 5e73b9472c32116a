import {
  checkNoDuplicatesNoDeadLetters,
  checkOrdersConsumedOnce,
  checkStockConserved,
  checkSyntheticOrdersOnce,
  runChecks,
} from './checks';
import { connectBroker } from './broker';
import { dropLeftovers, startBenchSystem, type BenchSystem } from './system';
import { consumerThroughput } from './phases/consumer-throughput';
import { eventLatency } from './phases/event-latency';
import { orderPlacement } from './phases/order-placement';
import { relayDrain } from './phases/relay-drain';
import { killAllSpawned, tail } from './processes';
import { step } from './progress';
import { finish, machine, markdown, writeResults, type Results } from './report';
import { createResourceSampler } from './resources';
import { settingsFor } from './settings';

export interface BenchOptions {
  quick: boolean;
  logLevel: string;
  /** A role to run with --cpu-prof (its .cpuprofile is kept in the log directory). */
  cpuProfile?: string;
  keepLogs: boolean;
  /** Takes one unit of stock behind the services' back, to prove the checks fail the run. */
  injectFault?: boolean;
}

export async function main(options: BenchOptions): Promise<number> {
  const settings = settingsFor(options.quick);
  const results: Results = { startedAt: new Date().toISOString(), settings, machine: machine(), checks: [] };
  const sampler = createResourceSampler();
  let system: BenchSystem | undefined;
  let aborting = false;
  const abort = (signal: NodeJS.Signals) => {
    // A terminal's Ctrl-C reaches this process twice (directly, and relayed by the tsx wrapper):
    // one clean-up is enough, and a second signal must not kill it half-way.
    if (aborting) return;
    aborting = true;
    console.error(`[bench] ${signal}: stopping services and dropping the bench databases`);
    killAllSpawned();
    setTimeout(() => process.exit(130), 20_000).unref();
    void dropLeftovers()
      .catch((error: Error) => console.error(`[bench] clean-up failed: ${error.message}`))
      .finally(() => process.exit(130));
  };
  process.on('SIGINT', abort);
  process.on('SIGTERM', abort);

  const started = Date.now();
  try {
    step(`${settings.mode} run: creating databases shop_bench_* and vhost shop_bench, starting the services`);
    system = await startBenchSystem(sampler, { logLevel: options.logLevel, cpuProfile: options.cpuProfile });
    const s = system;
    Object.assign(results.machine, await versions(s));

    step('[1/5] order placement');
    results.placement = await orderPlacement(s, settings, sampler);
    step('[2/5] event latency');
    results.eventLatency = await eventLatency(
      s,
      settings,
      Math.max(...results.placement.levels.map((level) => level.shop.ordersPerSecond)),
    );
    if (options.injectFault) await s.db.products.query('UPDATE products SET stock = stock - 1 WHERE id = 1');
    let orders = 0;
    await runChecks('phases 1–2', [
      async () => (orders = await checkOrdersConsumedOnce(s, settings.settleTimeoutMs)),
      () => checkStockConserved(s),
      () => checkNoDuplicatesNoDeadLetters(s),
    ]);
    results.checks.push(
      `${orders} orders each reserved once with their items and notified once; stock conserved`,
    );

    step('[3/5] relay drain');
    results.relayDrain = await relayDrain(s, settings, sampler);
    results.checks.push(`relay drains delivered all ${settings.drainEvents} events per run`);

    step('[4/5] consumer throughput');
    results.consumer = await consumerThroughput(s, settings);
    await runChecks('phase 4', [
      () => checkSyntheticOrdersOnce(s, settings.consumerEvents, settings.settleTimeoutMs),
      () => checkStockConserved(s),
      () => checkNoDuplicatesNoDeadLetters(s),
    ]);
    results.checks.push(
      `${settings.consumerEvents} pre-loaded OrderCreated reserved once each and notified once; stock conserved; no dead letters`,
    );

    step('[5/5] resources');
    results.resources = sampler.report();
  } catch (error) {
    results.error = (error as Error).message;
    console.error(`\n[bench] FAILED: ${(error as Error).stack ?? (error as Error).message}`);
    for (const log of system?.logs() ?? []) console.error(`\n--- last lines of ${log} ---\n${tail(log)}`);
    const logDir = (error as { logDir?: string }).logDir;
    if (logDir) console.error(`[bench] service logs kept in ${logDir}`);
  } finally {
    results.resources ??= sampler.report();
    sampler.stop();
    step('stopping the services, dropping shop_bench_* and the vhost');
    const keepLogs = options.keepLogs || options.cpuProfile !== undefined || results.error !== undefined;
    await system
      ?.teardown(keepLogs)
      .catch((error: Error) => console.error(`[bench] teardown: ${error.message}`));
    if (keepLogs && system)
      step(`service logs${options.cpuProfile ? ' and CPU profile' : ''} kept in ${system.logDir}`);
    if (!system) await dropLeftovers().catch(() => undefined);
  }

  finish(results);
  const { json, md } = writeResults(results);
  console.log(`\n${markdown(results)}`);
  step(`${((Date.now() - started) / 1000).toFixed(0)} s; results in ${json} and ${md}`);
  return results.error ? 1 : 0;
}

async function versions(system: BenchSystem): Promise<{ postgres: string; rabbitmq?: string }> {
  const { rows } = await system.db.orders.query<{ server_version: string }>('SHOW server_version');
  const connection = await connectBroker();
  const rabbitmq = (connection.connection.serverProperties as { version?: string }).version;
  await connection.close();
  return { postgres: rows[0].server_version.split(' ')[0], rabbitmq };
}
