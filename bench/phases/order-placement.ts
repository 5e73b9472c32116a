import autocannon from 'autocannon';
import { runOrderInsertBaseline } from '../baselines/order-inserts';
import { databaseUrl } from '../infra';
import { CorrectnessError } from '../correctness';
import { randomOrder, randomUser, USERS } from '../order-mix';
import { step, timedBar } from '../progress';
import { settle } from '../settle';
import type { ResourceSampler } from '../resources';
import type { BenchSettings } from '../settings';
import { percentiles, ratio, type Percentiles } from '../stats';
import type { BenchSystem } from '../system';

export interface OrderPlacement {
  levels: PlacementLevel[];
  /** CPU milliseconds each Shop process spent per order placed, the order's events included. */
  cpuMsPerOrder: Record<string, number>;
}

export interface PlacementLevel {
  concurrency: number;
  /** `shed`: 429/503/504 answers — the system refusing load, which is slow, not wrong. */
  shop: { ordersPerSecond: number; latency: Percentiles; shed: number; errors: number };
  baseline: { ordersPerSecond: number; latency: Percentiles };
  ratio: number;
}

/**
 * Phase 1: POST /api/v1/orders through the gateway at each concurrency (autocannon, keep-alive
 * connections, valid tokens, 1–3 items), then the same inserts as raw `pg` transactions at the
 * same concurrency on the baseline database. Every answer must be 201.
 */
export async function orderPlacement(
  system: BenchSystem,
  settings: BenchSettings,
  sampler: ResourceSampler,
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
    const shop = await loadOrders(system, tokens, concurrency, settings.placementSeconds);
    if (shop.wrong > 0) {
      throw new CorrectnessError(
        `order placement at concurrency ${concurrency}: ${shop.wrong} answers were neither 201 nor load shedding ` +
          `(first problems: ${shop.samples.join(' | ')})`,
      );
    }
    if (shop.shed + shop.errors > 0)
      step(`  note: ${shop.shed} requests shed (429/503/504) and ${shop.errors} timed out or failed`);
    await settle(system, settings.settleTimeoutMs);
    const after = sampler.cpuSnapshot();
    for (const role of Object.keys(after)) cpu[role] = (cpu[role] ?? 0) + after[role] - (before[role] ?? 0);
    placed += shop.created;
    step(
      `baseline: raw pg order+items+outbox transactions, concurrency ${concurrency}, ${settings.placementSeconds}s`,
    );
    const baseline = await runOrderInsertBaseline(
      databaseUrl('baselineOrders'),
      system.products,
      concurrency,
      settings.placementSeconds,
    );
    levels.push({
      concurrency,
      shop: {
        ordersPerSecond: shop.ordersPerSecond,
        latency: shop.latency,
        shed: shop.shed,
        errors: shop.errors,
      },
      baseline,
      ratio: ratio(shop.ordersPerSecond, baseline.ordersPerSecond),
    });
    step(
      `  c=${concurrency}: Shop ${shop.ordersPerSecond.toFixed(0)} orders/s (p99 ${shop.latency.p99.toFixed(1)} ms), ` +
        `raw ${baseline.ordersPerSecond.toFixed(0)}/s → ratio ${levels.at(-1)!.ratio.toFixed(2)}`,
    );
  }
  const cpuMsPerOrder = Object.fromEntries(
    Object.entries(cpu).map(([role, seconds]) => [role, (seconds * 1000) / Math.max(1, placed)]),
  );
  step(
    `  CPU per order: ${Object.entries(cpuMsPerOrder)
      .map(([role, ms]) => `${role} ${ms.toFixed(1)} ms`)
      .join(', ')}`,
  );
  return { levels, cpuMsPerOrder };
}

async function loadOrders(system: BenchSystem, tokens: string[], connections: number, seconds: number) {
  const latencies: number[] = [];
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
        latencies.push(durationMs);
        if (status === 201) created++;
        else if (isShed(status)) shed++;
        else wrong++;
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
    latency: percentiles(latencies),
    shed,
    wrong,
    errors: result.errors + result.timeouts,
    samples,
  };
}

/** Answers that say "too busy" (rate limited, product service unavailable or slow): speed, not correctness. */
export const isShed = (status: number) => status === 429 || status === 503 || status === 504;
