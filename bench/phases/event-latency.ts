import { subscribeStockReserved, connectBroker } from '../broker';
import { CorrectnessError } from '../correctness';
import { coresUsed, readMachineCpu } from '../machine-cpu';
import { randomOrder, randomUser, USERS } from '../order-mix';
import { bar, step } from '../progress';
import type { BenchSettings } from '../settings';
import { percentiles, sleep, type Percentiles } from '../stats';
import type { BenchSystem } from '../system';
import { isShed } from './order-placement';
import { waitUntil } from '../wait';

export interface EventLatency {
  rate: number;
  orders: number;
  shed: number;
  /** reservation row created_at − order row created_at, both from the services' own records. */
  commitToReserved: Percentiles;
  /** 201 received by the client → StockReserved received by a bench subscriber (client clock). */
  responseToStockReservedEvent: Percentiles;
  /**
   * How late the load generator sent each order against its schedule. When it falls behind it
   * sends what is overdue at once, so a large value here means part of the tail is a burst the
   * bench made, not a steady rate.
   */
  senderLateness: Percentiles;
  /** Busy cores of the whole machine while the orders were sent: how close to saturation "steady" was. */
  busyCores: number;
}

/**
 * Phase 2: orders at a steady moderate rate (open loop: sent on schedule, whatever the answers'
 * speed) — the configured rate, or half of what phase 1 showed the system sustains if that is lower — then the time from each order's commit to its stock decrement's commit, read from the
 * timestamps the services record (orders.created_at, stock_reservations.created_at, one Postgres
 * clock), and — as a cross-check through the broker — when a subscriber saw its StockReserved.
 */
export async function eventLatency(
  system: BenchSystem,
  settings: BenchSettings,
  sustainedOrdersPerSecond: number,
): Promise<EventLatency> {
  // A latency is only meaningful at a rate the system sustains; beyond it, it measures queueing.
  const rate = Math.max(5, Math.min(settings.latencyRate, Math.floor(sustainedOrdersPerSecond / 2)));
  const connection = await connectBroker(system.broker);
  const subscriber = await subscribeStockReserved(connection);
  try {
    const tokens = await Promise.all(Array.from({ length: USERS }, (_, index) => system.token(index + 1)));
    const total = rate * settings.latencySeconds;
    const capped =
      rate < settings.latencyRate
        ? ` (capped from ${settings.latencyRate}/s at half the best throughput of phase 1)`
        : '';
    step(`event latency: ${total} orders at ${rate}/s${capped} through the gateway`);
    const respondedAt = new Map<number, number>();
    const failures: string[] = [];
    let shed = 0;
    const progress = bar('orders sent', total);
    const started = performance.now();
    const machineBefore = readMachineCpu();
    const inFlight: Promise<void>[] = [];
    const lateness: number[] = [];
    for (let index = 0; index < total; index++) {
      const due = started + (index * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      lateness.push(Math.max(0, performance.now() - due));
      inFlight.push(
        placeOrder(system, tokens[randomUser() - 1]).then(
          (answer) => {
            if ('id' in answer) respondedAt.set(answer.id, answer.at);
            else if (isShed(answer.status)) shed++;
            else failures.push(answer.problem);
          },
          (error: Error) => void failures.push(error.message),
        ),
      );
      progress.update(index + 1);
    }
    await Promise.all(inFlight);
    const busyCores = coresUsed(machineBefore).machine;
    progress.stop();
    if (failures.length > 0)
      throw new CorrectnessError(`event latency: ${failures.length} orders failed, e.g. ${failures[0]}`);
    if (shed > 0) step(`  note: ${shed} orders shed (429/503/504) under load`);

    const ids = [...respondedAt.keys()];
    step('waiting for every order of the phase to be reserved');
    await waitUntil(
      'every order reserved',
      async () =>
        (
          await system.db.products.query<{ n: string }>(
            'SELECT count(*) AS n FROM stock_reservations WHERE order_id = ANY($1)',
            [ids],
          )
        ).rows[0].n,
      (n) => Number(n) === ids.length,
      settings.settleTimeoutMs,
    );
    await waitUntil(
      'every StockReserved seen',
      async () => subscriber.receivedAt.size,
      (n) => n >= ids.length,
      10_000,
    ).catch(() => undefined);

    const orderTimes = await epochMs(
      system,
      'orders',
      'SELECT id, extract(epoch FROM created_at) * 1000 AS ms FROM orders WHERE id = ANY($1)',
      ids,
    );
    const reservedTimes = await epochMs(
      system,
      'products',
      'SELECT order_id AS id, extract(epoch FROM created_at) * 1000 AS ms FROM stock_reservations WHERE order_id = ANY($1)',
      ids,
    );
    const commitToReserved = ids.map((id) => reservedTimes.get(id)! - orderTimes.get(id)!);
    const eventTimes = ids
      .filter((id) => subscriber.receivedAt.has(id))
      .map((id) => subscriber.receivedAt.get(id)! - respondedAt.get(id)!);
    const late = percentiles(lateness);
    step(
      `  load generator behind its schedule: p99 ${late.p99.toFixed(1)} ms, worst ${Math.max(...lateness).toFixed(1)} ms; ` +
        `busy cores while sending ${busyCores.toFixed(2)}`,
    );
    if (subscriber.duplicates() > 0)
      step(`  note: the subscriber saw ${subscriber.duplicates()} duplicate StockReserved (at-least-once)`);
    return {
      rate,
      orders: ids.length,
      shed,
      commitToReserved: percentiles(commitToReserved),
      responseToStockReservedEvent: percentiles(eventTimes),
      senderLateness: late,
      busyCores,
    };
  } finally {
    await subscriber.close();
    await connection.close().catch(() => undefined);
  }
}

async function placeOrder(
  system: BenchSystem,
  token: string,
): Promise<{ id: number; at: number } | { status: number; problem: string }> {
  const response = await fetch(`${system.gatewayUrl}/api/v1/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ items: randomOrder(system.products) }),
  });
  const at = performance.timeOrigin + performance.now();
  const body = (await response.json()) as { id?: number };
  if (response.status !== 201 || typeof body.id !== 'number')
    return { status: response.status, problem: `${response.status} ${JSON.stringify(body)}` };
  return { id: body.id, at };
}

async function epochMs(
  system: BenchSystem,
  database: 'orders' | 'products',
  sql: string,
  ids: number[],
): Promise<Map<number, number>> {
  const { rows } = await system.db[database].query<{ id: number; ms: string }>(sql, [ids]);
  return new Map(rows.map((row) => [row.id, Number(row.ms)]));
}
