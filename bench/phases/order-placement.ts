import autocannon from 'autocannon';
import { runOrderInsertBaseline } from '../baselines/order-inserts';
import { databaseUrl } from '../infra';
import { CorrectnessError } from '../correctness';
import { coresUsed, readMachineCpu, type CoresUsed } from '../machine-cpu';
import { randomOrder, randomUser, USERS } from '../order-mix';
import { step, timedBar } from '../progress';
import { settle } from '../settle';
import type { ResourceSampler } from '../resources';
import type { BenchSettings } from '../settings';
import { percentiles, ratio, type Percentiles } from '../stats';
import type { BenchSystem } from '../system';

export interface OrderPlacement {
  levels: PlacementLevel[];
  /**
   * CPU milliseconds per order placed, its events included: each Shop role, and what the machine
   * spent besides them on it — Postgres, RabbitMQ and the load generator (the bench process).
   */
  cpuMsPerOrder: Record<string, number>;
  /** The same for the raw baseline: Postgres and the `pg` client (the bench process). */
  baselineCpuMsPerOrder: Record<string, number>;
  /** The raw figures are an earlier run's (`rawFrom`), not measured again. */
  rawReused?: boolean;
}

export interface PlacementLevel {
  concurrency: number;
  /**
   * `ordersPerSecond` and `latency` count 201 answers only. `shed`: 429/503/504 answers — the
   * system refusing load, which is slow, not wrong — by status, with their own latency; `errors`:
   * requests that timed out or failed without an answer.
   */
  shop: {
    ordersPerSecond: number;
    latency: Percentiles;
    shed: number;
    shedByStatus: Record<string, number>;
    shedLatency: Percentiles;
    errors: number;
    cores: CoresUsed;
  };
  baseline: { ordersPerSecond: number; latency: Percentiles; cores: CoresUsed };
  ratio: number;
}

/**
 * Phase 1: POST /api/v1/orders through the gateway at each concurrency (autocannon, keep-alive
 * connections, valid tokens, 1–3 items), then the same inserts as raw `pg` transactions at the
 * same concurrency on the baseline database. Every answer must be 201 or load shedding
 * (429/503/504, counted apart: rate and percentiles are of the 201s only). Given `rawFrom` (an earlier
 * run's placement), its raw figures are reused instead: the baseline touches no broker and no
 * service, and a second system on the same Postgres has no connections to spare for its 32.
 */
export async function orderPlacement(
  system: BenchSystem,
  settings: BenchSettings,
  sampler: ResourceSampler,
  rawFrom?: OrderPlacement,
): Promise<OrderPlacement> {
  const tokens = await Promise.all(Array.from({ length: USERS }, (_, index) => system.token(index + 1)));
  step(`warm-up: ${settings.placementWarmupSeconds}s of orders at concurrency 8 (not recorded)`);
  await loadOrders(system, tokens, 8, settings.placementWarmupSeconds);

  const levels: PlacementLevel[] = [];
  const cpu: Record<string, number> = {};
  let placed = 0;
  for (const concurrency of settings.concurrencies) {
    await settle(system, settings.settleTimeoutMs);
    step(`order placement through the gateway, concurrency ${concurrency}, ${settings.placementSeconds}s`);
    const before = sampler.cpuSnapshot();
    const machineBefore = readMachineCpu();
    const shop = await loadOrders(system, tokens, concurrency, settings.placementSeconds);
    const shopCores = coresUsed(machineBefore);
    if (shop.wrong > 0) {
      throw new CorrectnessError(
        `order placement at concurrency ${concurrency}: ${shop.wrong} answers were neither 201 nor load shedding ` +
          `(first problems: ${shop.samples.join(' | ')})`,
      );
    }
    if (shop.shed + shop.errors > 0)
      step(
        `  note: ${shop.shed} requests shed (${showStatuses(shop.shedByStatus)}) and ${shop.errors} timed out or failed; ` +
          'the percentiles are of the 201 answers only',
      );
    await settle(system, settings.settleTimeoutMs);
    const after = sampler.cpuSnapshot();
    for (const role of Object.keys(after)) cpu[role] = (cpu[role] ?? 0) + after[role] - (before[role] ?? 0);
    // Until the events settled, so each order's saga is paid for.
    const machine = coresUsed(machineBefore);
    cpu.postgres = (cpu.postgres ?? 0) + machine.postgres * machine.seconds;
    cpu.rabbitmq = (cpu.rabbitmq ?? 0) + machine.rabbitmq * machine.seconds;
    cpu['load generator (bench)'] = (cpu['load generator (bench)'] ?? 0) + machine.bench * machine.seconds;
    placed += shop.created;
    const reused = rawFrom?.levels.find((level) => level.concurrency === concurrency)?.baseline;
    const baseline = reused ?? (await runBaseline(system, settings, concurrency));
    levels.push({
      concurrency,
      shop: {
        ordersPerSecond: shop.ordersPerSecond,
        latency: shop.latency,
        shed: shop.shed,
        shedByStatus: shop.shedByStatus,
        shedLatency: shop.shedLatency,
        errors: shop.errors,
        cores: shopCores,
      },
      baseline,
      ratio: ratio(shop.ordersPerSecond, baseline.ordersPerSecond),
    });
    step(
      `  c=${concurrency}: Shop ${shop.ordersPerSecond.toFixed(0)} orders/s (p99 ${shop.latency.p99.toFixed(1)} ms), ` +
        `raw ${baseline.ordersPerSecond.toFixed(0)}/s${reused ? ' (reused)' : ''} → ratio ${levels.at(-1)!.ratio.toFixed(2)}; ` +
        `busy cores ${shopCores.machine.toFixed(2)} vs ${baseline.cores.machine.toFixed(2)}`,
    );
  }
  const perOrder = (seconds: Record<string, number>, orders: number) =>
    Object.fromEntries(
      Object.entries(seconds).map(([role, value]) => [role, (value * 1000) / Math.max(1, orders)]),
    );
  const cpuMsPerOrder = perOrder(cpu, placed);
  const baselineCpu = { postgres: 0, 'pg client (bench)': 0 };
  for (const { baseline } of levels) {
    baselineCpu.postgres += baseline.cores.postgres * baseline.cores.seconds;
    baselineCpu['pg client (bench)'] += baseline.cores.bench * baseline.cores.seconds;
  }
  const baselinePlaced = levels.reduce(
    (sum, { baseline }) => sum + baseline.ordersPerSecond * settings.placementSeconds,
    0,
  );
  const baselineCpuMsPerOrder = perOrder(baselineCpu, baselinePlaced);
  const show = (ms: Record<string, number>) =>
    Object.entries(ms)
      .map(([role, value]) => `${role} ${value.toFixed(2)} ms`)
      .join(', ');
  step(`  CPU per order: ${show(cpuMsPerOrder)}`);
  step(`  CPU per raw transaction: ${show(baselineCpuMsPerOrder)}`);
  return { levels, cpuMsPerOrder, baselineCpuMsPerOrder, rawReused: rawFrom ? true : undefined };
}

async function runBaseline(
  system: BenchSystem,
  settings: BenchSettings,
  concurrency: number,
): Promise<PlacementLevel['baseline']> {
  step(
    `baseline: raw pg order+items+outbox transactions, concurrency ${concurrency}, ${settings.placementSeconds}s`,
  );
  const before = readMachineCpu();
  const baseline = await runOrderInsertBaseline(
    databaseUrl('baselineOrders'),
    system.products,
    concurrency,
    settings.placementSeconds,
  );
  return { ...baseline, cores: coresUsed(before) };
}

async function loadOrders(system: BenchSystem, tokens: string[], connections: number, seconds: number) {
  // A fast 503 is not a fast order: only 201s go into the placement percentiles.
  const createdLatencies: number[] = [];
  const shedLatencies: number[] = [];
  const shedByStatus: Record<string, number> = {};
  const samples: string[] = [];
  let created = 0;
  let shed = 0;
  let wrong = 0;
  const progress = timedBar(`c=${connections}`, seconds);
  const instance = autocannon({
    url: system.gatewayUrl,
    connections,
    duration: seconds,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: '/api/v1/orders',
        setupRequest: (request) => ({
          ...request,
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${tokens[randomUser() - 1]}`,
          },
          body: JSON.stringify({ items: randomOrder(system.products) }),
        }),
      },
    ],
    setupClient: (client) => {
      client.on('response', (status, _bytes, durationMs) => {
        if (status === 201) {
          created++;
          createdLatencies.push(durationMs);
        } else if (isShed(status)) {
          shed++;
          shedByStatus[status] = (shedByStatus[status] ?? 0) + 1;
          shedLatencies.push(durationMs);
        } else wrong++;
      });
      client.on('body', (body) => {
        if (samples.length < 3 && body.includes('"code"')) samples.push(body.toString().slice(0, 300));
      });
    },
  });
  const result = await instance;
  progress.stop();
  return {
    created,
    ordersPerSecond: created / result.duration,
    latency: percentiles(createdLatencies),
    shed,
    shedByStatus,
    shedLatency: percentiles(shedLatencies),
    wrong,
    errors: result.errors + result.timeouts,
    samples,
  };
}

/** `{ 503: 4, 429: 1 }` → "503 ×4, 429 ×1". */
export const showStatuses = (byStatus: Record<string, number>) =>
  Object.entries(byStatus)
    .map(([status, count]) => `${status} ×${count}`)
    .join(', ');

/** Answers that say "too busy" (rate limited, product service unavailable or slow): speed, not correctness. */
export const isShed = (status: number) => status === 429 || status === 503 || status === 504;
