import { Gauge } from 'prom-client';
import type { HealthCheck } from '../health';
import type { Metrics } from './metrics';

export interface OutboxLag {
  backlog: number;
  /** Age of the oldest unpublished row; null when nothing waits. */
  oldestAgeSeconds: number | null;
}

export type OutboxProbe = () => Promise<OutboxLag>;

// One cheap query: the partial index on unpublished rows keeps it small however big the outbox grows.
export const OUTBOX_LAG_SQL = `
  SELECT count(*)::int AS backlog,
         extract(epoch FROM now() - min(created_at))::float8 AS oldest_age_seconds
    FROM outbox_events
   WHERE published_at IS NULL`;

/** Reads the outbox lag through any SQL runner (a pg pool's `query`, Kysely's `sql.raw`). */
export function createOutboxProbe(query: (sql: string) => Promise<unknown[]>): OutboxProbe {
  return async () => {
    const [row] = (await query(OUTBOX_LAG_SQL)) as { backlog: unknown; oldest_age_seconds: unknown }[];
    const age = row?.oldest_age_seconds;
    return {
      backlog: Number(row?.backlog ?? 0),
      oldestAgeSeconds: age === null || age === undefined ? null : Number(age),
    };
  };
}

const watched = new WeakMap<Metrics, Map<string, OutboxProbe>>();

/**
 * Exposes `outbox_backlog{service}` and `outbox_oldest_unpublished_age_seconds{service}`, computed
 * on scrape with one query per service (both gauges share it). Several services in one process
 * (the e2e suite) each add their own probe. Returns the function that stops watching.
 */
export function watchOutbox(metrics: Metrics, service: string, probe: OutboxProbe): () => void {
  let probes = watched.get(metrics);
  if (!probes) {
    const all = new Map<string, OutboxProbe>();
    probes = all;
    watched.set(metrics, all);
    let scrape: Promise<Map<string, OutboxLag>> | undefined;
    // Both gauges are collected in the same tick of one scrape: they share one read.
    const read = () =>
      (scrape ??= readAll(all).finally(() => {
        scrape = undefined;
      }));
    new Gauge({
      name: 'outbox_backlog',
      help: 'Outbox events not yet published',
      labelNames: ['service'],
      registers: [metrics.registry],
      async collect() {
        this.reset();
        for (const [name, lag] of await read()) this.set({ service: name }, lag.backlog);
      },
    });
    new Gauge({
      name: 'outbox_oldest_unpublished_age_seconds',
      help: 'Age of the oldest unpublished outbox event (0 when none waits)',
      labelNames: ['service'],
      registers: [metrics.registry],
      async collect() {
        this.reset();
        for (const [name, lag] of await read()) this.set({ service: name }, lag.oldestAgeSeconds ?? 0);
      },
    });
  }
  probes.set(service, probe);
  const own = probes;
  return () => {
    if (own.get(service) === probe) own.delete(service);
  };
}

// A database that does not answer leaves the gauges out of this scrape instead of failing /metrics.
async function readAll(probes: Map<string, OutboxProbe>): Promise<Map<string, OutboxLag>> {
  const entries = await Promise.all(
    [...probes].map(async ([name, probe]) => [name, await probe().catch(() => undefined)] as const),
  );
  return new Map(entries.filter((entry): entry is [string, OutboxLag] => entry[1] !== undefined));
}

/** Readiness: down when the oldest unpublished event has waited longer than `maxLagSeconds`. */
export function outboxLagCheck(probe: OutboxProbe, maxLagSeconds: number): HealthCheck {
  return async () => {
    const { backlog, oldestAgeSeconds } = await probe();
    if (oldestAgeSeconds !== null && oldestAgeSeconds > maxLagSeconds)
      return {
        status: 'down',
        detail: `oldest unpublished event is ${Math.round(oldestAgeSeconds)} s old (limit ${maxLagSeconds} s, backlog ${backlog})`,
      };
    return { status: 'up' };
  };
}
