import {
  checkNoDuplicatesNoDeadLetters,
  checkOrdersConsumedOnce,
  checkStockConserved,
  checkSyntheticOrdersOnce,
  runChecks,
} from './checks';
import { consumerThroughput } from './phases/consumer-throughput';
import { eventLatency } from './phases/event-latency';
import { historyPhase, HISTORY_ORDER_BASE } from './phases/history';
import { orderPlacement, type OrderPlacement } from './phases/order-placement';
import { relayDrain } from './phases/relay-drain';
import { step } from './progress';
import type { ClusterFigures, Results, SystemFigures } from './report';
import type { ResourceSampler } from './resources';
import type { BenchSettings } from './settings';
import type { BenchSystem } from './system';

export interface RunContext {
  settings: BenchSettings;
  sampler: ResourceSampler;
  results: Results;
}

/** The six phases of SPEC §8 on the single-node system, with their checks. */
export async function singleNodePhases(
  system: BenchSystem,
  context: RunContext,
  injectFault: boolean,
): Promise<void> {
  const { settings, sampler, results } = context;
  await spinePhases(system, context, results, results.checks, {
    numbered: (phase) => `[${phase}/6]`,
    where: '',
    injectFault,
  });

  step('[4/6] consumer throughput');
  results.consumer = await consumerThroughput(system, settings);
  await runChecks('phase 4', [
    () => checkSyntheticOrdersOnce(system, settings.consumerEvents, settings.settleTimeoutMs),
    () => checkStockConserved(system),
    () => checkNoDuplicatesNoDeadLetters(system),
  ]);
  results.checks.push(
    `${settings.consumerEvents} pre-loaded OrderCreated reserved once each and notified once; stock conserved; no dead letters`,
  );

  step('[5/6] history in the outbox and inboxes');
  results.history = await historyPhase(system, settings, sampler, {
    placement: results.placement!,
    relayDrain: results.relayDrain!,
    consumer: results.consumer,
  });
  let orders = 0;
  await runChecks('phase 5', [
    async () => (orders = await checkOrdersConsumedOnce(system, settings.settleTimeoutMs)),
    () =>
      checkSyntheticOrdersOnce(system, settings.consumerEvents, settings.settleTimeoutMs, HISTORY_ORDER_BASE),
    () => checkStockConserved(system),
    () => checkNoDuplicatesNoDeadLetters(system),
  ]);
  results.checks.push(
    `with history: ${orders} orders in all reserved once and notified once, ${settings.consumerEvents} more pre-loaded OrderCreated ` +
      'reserved once each and notified once, retention dropped exactly the oldest day of each table; stock conserved; no dead letters',
  );

  step('[6/6] resources');
  results.resources = sampler.report();
}

/**
 * Phases 1–3 again on the replicated system (`--cluster`), with the same checks. Phase 1's raw
 * baseline is the single-node run's: it touches neither broker nor service. Phase 4 is not run:
 * its baseline keeps one consumer's prefetch in flight, and two instances keep twice that.
 */
export async function clusterPhases(
  system: BenchSystem,
  context: RunContext,
  figures: ClusterFigures,
): Promise<void> {
  await spinePhases(system, context, figures, figures.checks, {
    numbered: (phase) => `[cluster ${phase}/3]`,
    where: ' on the cluster',
    rawFrom: context.results.placement,
  });
}

/**
 * Phases 1–3 on `system`, their figures into `figures`, with the checks after phases 1–2 and 3;
 * what the checks proved goes into `checks`.
 */
async function spinePhases(
  system: BenchSystem,
  { settings, sampler }: RunContext,
  figures: SystemFigures,
  checks: string[],
  run: {
    numbered: (phase: number) => string;
    /** Appended to the progress lines, to say which system they are about. */
    where: string;
    rawFrom?: OrderPlacement;
    injectFault?: boolean;
  },
): Promise<void> {
  step(`${run.numbered(1)} order placement${run.where}`);
  const placement = await orderPlacement(system, settings, sampler, run.rawFrom);
  figures.placement = placement;
  step(`${run.numbered(2)} event latency${run.where}`);
  figures.eventLatency = await eventLatency(system, settings);
  if (run.injectFault) await system.db.products.query('UPDATE products SET stock = stock - 1 WHERE id = 1');
  let orders = 0;
  await runChecks(`phases 1–2${run.where}`, [
    async () => (orders = await checkOrdersConsumedOnce(system, settings.settleTimeoutMs)),
    () => checkStockConserved(system),
    () => checkNoDuplicatesNoDeadLetters(system),
  ]);
  checks.push(`${orders} orders each reserved once with their items and notified once; stock conserved`);

  step(`${run.numbered(3)} relay drain${run.where}`);
  figures.relayDrain = await relayDrain(system, settings, sampler);
  checks.push(`relay drains delivered all ${settings.drainEvents} events per run`);
}
