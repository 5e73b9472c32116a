import { connectBroker } from './broker';
import {
  lockCluster,
  CLUSTER_INSTANCES,
  CLUSTER_NODES,
  CLUSTER_POOL_SIZES,
  type LocalCluster,
} from './cluster';
import { localBroker, type BenchBroker } from './infra';
import { killAllSpawned, tail } from './processes';
import { step } from './progress';
import { finish, machine, markdown, writeResults, type ClusterFigures, type Results } from './report';
import { createResourceSampler } from './resources';
import { clusterPhases, singleNodePhases } from './runs';
import { settingsFor, type BenchSettings } from './settings';
import { dropLeftovers, startBenchSystem, type BenchSystem } from './system';

export interface BenchOptions {
  quick: boolean;
  logLevel: string;
  /** A role to run with --cpu-prof (its .cpuprofile is kept in the log directory). */
  cpuProfile?: string;
  keepLogs: boolean;
  /** Takes one unit of stock behind the services' back, to prove the checks fail the run. */
  injectFault?: boolean;
  /** After the single-node run, phases 1–3 on the local 3-node cluster with 2 instances of each service. */
  cluster?: boolean;
  /** Rows of history for phase 5, instead of the mode's default. */
  historyRows?: number;
}

export async function main(options: BenchOptions): Promise<number> {
  const settings = settingsFor(
    options.quick,
    options.historyRows === undefined ? {} : { historyRows: options.historyRows },
  );
  const results: Results = { startedAt: new Date().toISOString(), settings, machine: machine(), checks: [] };
  let cluster: LocalCluster | undefined;
  cleanUpOnSignals(() => cluster);

  const started = Date.now();
  const sampler = createResourceSampler();
  step(`${settings.mode} run: creating databases shop_bench_* and vhost shop_bench, starting the services`);
  await onSystem(
    results,
    options,
    localBroker,
    () =>
      startBenchSystem(sampler, {
        logLevel: options.logLevel,
        cpuProfile: options.cpuProfile,
        broker: localBroker,
        instances: 1,
      }),
    async (system) => {
      Object.assign(results.machine, await versions(system));
      await singleNodePhases(system, { settings, sampler, results }, options.injectFault ?? false);
    },
  );
  results.resources ??= sampler.report();
  sampler.stop();

  if (options.cluster && !results.error) {
    try {
      cluster = await lockCluster();
      await cluster.start();
      await onCluster(cluster, settings, results, options);
    } catch (error) {
      results.error = `local cluster: ${(error as Error).message}`;
      console.error(`\n[bench] FAILED: ${(error as Error).stack ?? (error as Error).message}`);
    } finally {
      await cluster?.release();
    }
  }

  finish(results);
  const { json, md } = writeResults(results);
  console.log(`\n${markdown(results)}`);
  step(`${((Date.now() - started) / 1000).toFixed(0)} s; results in ${json} and ${md}`);
  return results.error ? 1 : 0;
}

/** Phases 1–3 on a second system: 2 instances of each service on the cluster's three nodes. */
async function onCluster(
  cluster: LocalCluster,
  settings: BenchSettings,
  results: Results,
  options: BenchOptions,
): Promise<void> {
  const figures: ClusterFigures = {
    nodes: CLUSTER_NODES,
    instancesPerService: CLUSTER_INSTANCES,
    poolSizes: CLUSTER_POOL_SIZES,
    checks: [],
  };
  results.cluster = figures;
  // Its own sampler: the single-node run's resources stay its own.
  const sampler = createResourceSampler();
  step(
    `cluster run: ${CLUSTER_INSTANCES} instances each of the order, product and notification services ` +
      `on the ${CLUSTER_NODES}-node cluster, vhost shop_bench there, databases shop_bench_* again`,
  );
  await onSystem(
    results,
    options,
    cluster.broker,
    () =>
      startBenchSystem(sampler, {
        logLevel: options.logLevel,
        broker: cluster.broker,
        instances: CLUSTER_INSTANCES,
        poolSizes: CLUSTER_POOL_SIZES,
      }),
    (system) => clusterPhases(system, { settings, sampler, results }, figures),
  );
  sampler.stop();
}

/**
 * Starts a system, runs `phases` on it and always tears it down (databases and vhost included).
 * A failure goes into `results.error`, with the last lines of every service's log printed and
 * the logs kept.
 */
async function onSystem(
  results: Results,
  options: BenchOptions,
  broker: BenchBroker,
  start: () => Promise<BenchSystem>,
  phases: (system: BenchSystem) => Promise<void>,
): Promise<void> {
  let system: BenchSystem | undefined;
  try {
    system = await start();
    await phases(system);
  } catch (error) {
    results.error = (error as Error).message;
    console.error(`\n[bench] FAILED: ${(error as Error).stack ?? (error as Error).message}`);
    for (const log of system?.logs() ?? []) console.error(`\n--- last lines of ${log} ---\n${tail(log)}`);
    const logDir = (error as { logDir?: string }).logDir;
    if (logDir) console.error(`[bench] service logs kept in ${logDir}`);
  } finally {
    step('stopping the services, dropping shop_bench_* and the vhost');
    const keepLogs = options.keepLogs || options.cpuProfile !== undefined || results.error !== undefined;
    await system
      ?.teardown(keepLogs)
      .catch((error: Error) => console.error(`[bench] teardown: ${error.message}`));
    if (keepLogs && system)
      step(`service logs${options.cpuProfile ? ' and CPU profile' : ''} kept in ${system.logDir}`);
    if (!system) await dropLeftovers(broker).catch(() => undefined);
  }
}

/** Ctrl-C or SIGTERM: nothing the bench started may outlive it, the cluster included if it started it. */
function cleanUpOnSignals(heldCluster: () => LocalCluster | undefined): void {
  let aborting = false;
  const abort = (signal: NodeJS.Signals) => {
    // A terminal's Ctrl-C reaches this process twice (directly, and relayed by the tsx wrapper):
    // one clean-up is enough, and a second signal must not kill it half-way.
    if (aborting) return;
    aborting = true;
    console.error(`[bench] ${signal}: stopping services and dropping the bench databases`);
    killAllSpawned();
    setTimeout(() => process.exit(130), 20_000).unref();
    const cluster = heldCluster();
    void dropLeftovers(localBroker)
      .then(() => cluster && cluster.broker.dropVhost().finally(() => cluster.release()))
      .catch((error: Error) => console.error(`[bench] clean-up failed: ${error.message}`))
      .finally(() => process.exit(130));
  };
  process.on('SIGINT', abort);
  process.on('SIGTERM', abort);
}

async function versions(system: BenchSystem): Promise<{ postgres: string; rabbitmq?: string }> {
  const { rows } = await system.db.orders.query<{ server_version: string }>('SHOW server_version');
  const connection = await connectBroker(system.broker);
  const rabbitmq = (connection.connection.serverProperties as { version?: string }).version;
  await connection.close();
  return { postgres: rows[0].server_version.split(' ')[0], rabbitmq };
}
