import { subscribeStockReserved, connectBroker } from '../broker';
import { CorrectnessError } from '../correctness';
import { coresUsed, readMachineCpu } from '../machine-cpu';
import { randomOrder, randomUser, USERS } from '../order-mix';
import { bar, step } from '../progress';
import type { BenchSettings } from '../settings';
import { percentiles, sleep, type Percentiles } from '../stats';
import type { BenchSystem } from '../system';
import { isShed, showStatuses } from './order-placement';
import { waitUntil } from '../wait';

export interface EventLatency {
  /** The fixed rate the orders were scheduled at (settings.latencyRate; the bench never lowers it). */
  rate: number;
  /** Orders answered 201. */
  orders: number;
  /** 429/503/504 answers, by status. */
  shed: number;
  shedByStatus: Record<string, number>;
  /** Requests that got no answer (the client's fetch failed: reset, timed out), with the first cause. */
  failed: number;
  firstFailure?: string;
  /** The headline: 201 received by the client → StockReserved received by a bench subscriber (client clock). */
  responseToStockReservedEvent: Percentiles;
  /** Orders per second the sender actually sent: orders ÷ (last send − first send's due time). */
  sentPerSecond: number;
  /** 201 answers per second: 201s ÷ (last 201 − first send's due time). */
  answeredPerSecond: number;
  /** StockReserved per second at the subscriber: events seen ÷ (last seen − first send's due time). */
  reservedPerSecond: number;
  /**
   * How late the load generator sent each order against its schedule. When it falls behind it
   * sends what is overdue at once, so a large value here means part of the tail is a burst the
   * bench made, not a steady rate.
   */
  senderLateness: Percentiles;
  /** Busy cores of the whole machine while the orders were sent: how close to saturation "steady" was. */
  busyCores: number;
  /** Empty when the rate was held; otherwise each way it was not, in words, for the table. */
  notSustained: string[];
}

/** Below this share of the scheduled rate, a completed rate says Shop fell behind. */
const SUSTAINED_SHARE = 0.95;
/**
 * A sender later than this at p99 was sending in bursts, not at the rate: at 100/s it is five
 * orders' worth of schedule. On this 2-core machine it means the bench itself got no CPU — the
 * machine, Shop included, was saturated.
 */
const SENDER_LATE_MS = 50;

/**
 * Phase 2: orders at a FIXED rate (open loop: sent on schedule, whatever the answers' speed),
 * settings.latencyRate — never lowered by the bench: when Shop cannot keep up, the phase says so
 * (`notSustained`) instead of measuring at a rate it can. The figure is the time from the
 * client's 201 to an independent bench subscriber (its own temporary queue on `inventory`)
 * receiving that order's StockReserved.
 */
export async function eventLatency(system: BenchSystem, settings: BenchSettings): Promise<EventLatency> {
  const rate = settings.latencyRate;
  const connection = await connectBroker(system.broker);
  const subscriber = await subscribeStockReserved(connection);
  try {
    const tokens = await Promise.all(Array.from({ length: USERS }, (_, index) => system.token(index + 1)));
    const total = rate * settings.latencySeconds;
    step(`event latency: ${total} orders at a fixed ${rate}/s through the gateway`);
    const respondedAt = new Map<number, number>();
    const failures: string[] = [];
    const unanswered: string[] = [];
    const shedByStatus: Record<string, number> = {};
    let shed = 0;
    const progress = bar('orders sent', total);
    const started = performance.now();
    const startedAt = performance.timeOrigin + started;
    const machineBefore = readMachineCpu();
    const inFlight: Promise<void>[] = [];
    const lateness: number[] = [];
    let lastSent = started;
    for (let index = 0; index < total; index++) {
      const due = started + (index * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      lastSent = performance.now();
      lateness.push(Math.max(0, lastSent - due));
      inFlight.push(
        placeOrder(system, tokens[randomUser() - 1]).then(
          (answer) => {
            if ('id' in answer) respondedAt.set(answer.id, answer.at);
            else if (isShed(answer.status)) {
              shed++;
              shedByStatus[answer.status] = (shedByStatus[answer.status] ?? 0) + 1;
            } else failures.push(answer.problem);
          },
          // No answer at all is load (like phase 1's timeouts), not a wrong answer.
          (error: Error & { cause?: { code?: string; message?: string } }) =>
            void unanswered.push(error.cause?.code ?? error.cause?.message ?? error.message),
        ),
      );
      progress.update(index + 1);
    }
    await Promise.all(inFlight);
    const busyCores = coresUsed(machineBefore).machine;
    progress.stop();
    if (failures.length > 0)
      throw new CorrectnessError(`event latency: ${failures.length} orders failed, e.g. ${failures[0]}`);
    if (shed > 0) step(`  note: ${shed} orders shed (${showStatuses(shedByStatus)})`);
    if (unanswered.length > 0)
      step(`  note: ${unanswered.length} requests got no answer (first: ${unanswered[0]})`);

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

    const seen = ids.filter((id) => subscriber.receivedAt.has(id));
    const eventTimes = seen.map((id) => subscriber.receivedAt.get(id)! - respondedAt.get(id)!);
    const perSecond = (count: number, lastAt: number) => count / Math.max(0.001, (lastAt - startedAt) / 1000);
    const sentPerSecond = total / Math.max(0.001, (lastSent - started + 1000 / rate) / 1000);
    const answeredPerSecond = perSecond(ids.length, Math.max(...respondedAt.values()));
    const reservedPerSecond = perSecond(
      seen.length,
      Math.max(...seen.map((id) => subscriber.receivedAt.get(id)!)),
    );
    const late = percentiles(lateness);
    const notSustained = shortfalls({
      rate,
      shed,
      failed: unanswered.length,
      late,
      sentPerSecond,
      answeredPerSecond,
      reservedPerSecond,
      missingEvents: ids.length - seen.length,
    });
    step(
      `  load generator behind its schedule: p99 ${late.p99.toFixed(1)} ms, worst ${late.max.toFixed(1)} ms; ` +
        `busy cores while sending ${busyCores.toFixed(2)}`,
    );
    step(
      `  sent ${sentPerSecond.toFixed(1)}/s, 201s ${answeredPerSecond.toFixed(1)}/s, StockReserved ${reservedPerSecond.toFixed(1)}/s ` +
        `against ${rate}/s: ${notSustained.length ? `NOT sustained (${notSustained.join('; ')})` : 'sustained'}`,
    );
    if (subscriber.duplicates() > 0)
      step(`  note: the subscriber saw ${subscriber.duplicates()} duplicate StockReserved (at-least-once)`);
    return {
      rate,
      orders: ids.length,
      shed,
      shedByStatus,
      failed: unanswered.length,
      firstFailure: unanswered[0],
      responseToStockReservedEvent: percentiles(eventTimes),
      sentPerSecond,
      answeredPerSecond,
      reservedPerSecond,
      senderLateness: late,
      busyCores,
      notSustained,
    };
  } finally {
    await subscriber.close();
    await connection.close().catch(() => undefined);
  }
}

/** Each way the phase fell short of its fixed rate, in words; empty when it held. */
function shortfalls(run: {
  rate: number;
  shed: number;
  failed: number;
  late: Percentiles;
  sentPerSecond: number;
  answeredPerSecond: number;
  reservedPerSecond: number;
  missingEvents: number;
}): string[] {
  const floor = run.rate * SUSTAINED_SHARE;
  const problems: string[] = [];
  if (run.late.p99 > SENDER_LATE_MS)
    problems.push(`sender behind schedule: p99 ${run.late.p99.toFixed(0)} ms late`);
  if (run.sentPerSecond < floor) problems.push(`orders sent at ${run.sentPerSecond.toFixed(1)}/s`);
  if (run.shed > 0) problems.push(`${run.shed} orders shed`);
  if (run.failed > 0) problems.push(`${run.failed} requests got no answer`);
  if (run.answeredPerSecond < floor) problems.push(`201s completed at ${run.answeredPerSecond.toFixed(1)}/s`);
  if (run.reservedPerSecond < floor)
    problems.push(`StockReserved reached the subscriber at ${run.reservedPerSecond.toFixed(1)}/s`);
  if (run.missingEvents > 0) problems.push(`${run.missingEvents} StockReserved never reached the subscriber`);
  return problems;
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
