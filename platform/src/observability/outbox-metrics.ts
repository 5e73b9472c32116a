import { Gauge } from 'prom-client';
import type { HealthCheck } from '../health';
import type { Metrics } from './metrics';
import { scrapedPerService } from './scraped-gauges';

export interface OutboxLag {
  backlog: number;
  /** Age of the oldest unpublished row; null when nothing waits. */
  oldestAgeSeconds: number | null;
  /** Scheduled rows waiting for their delivery time. */
  scheduled: number;
  /** How long the oldest scheduled row that is due has waited to be moved to the outbox; null when none. */
  overdueSeconds: number | null;
}

export type OutboxProbe = () => Promise<OutboxLag>;

// One query: the partial index on unpublished rows keeps the outbox part small however big the outbox
// grows; the scheduled part is an index-only count of rows waiting for their time (one per pending order).
export const OUTBOX_LAG_SQL = `
  SELECT (SELECT count(*)::int FROM outbox_events WHERE published_at IS NULL) AS backlog,
         (SELECT extract(epoch FROM now() - min(created_at))::float8
            FROM outbox_events WHERE published_at IS NULL) AS oldest_age_seconds,
         (SELECT count(*)::int FROM scheduled_events WHERE deliver_at > now()) AS scheduled,
         (SELECT extract(epoch FROM now() - min(deliver_at))::float8
            FROM scheduled_events WHERE deliver_at <= now()) AS overdue_seconds`;

/** Reads the outbox lag through any SQL runner (a pg pool's `query`, Kysely's `sql.raw`). */
export function createOutboxProbe(query: (sql: string) => Promise<unknown[]>): OutboxProbe {
  return async () => {
    const [row] = (await query(OUTBOX_LAG_SQL)) as Record<
      'backlog' | 'oldest_age_seconds' | 'scheduled' | 'overdue_seconds',
      unknown
    >[];
    const secondsOrNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));
    return {
      backlog: Number(row?.backlog ?? 0),
      oldestAgeSeconds: secondsOrNull(row?.oldest_age_seconds),
      scheduled: Number(row?.scheduled ?? 0),
      overdueSeconds: secondsOrNull(row?.overdue_seconds),
    };
  };
}

/**
 * Exposes `outbox_backlog{service}`, `outbox_oldest_unpublished_age_seconds{service}`,
 * `outbox_scheduled{service}` and `outbox_scheduled_overdue_seconds{service}`, computed on scrape
 * with one query per service (the gauges share it). Several services in one process
 * (the e2e suite) each add their own probe. Returns the function that stops watching.
 */
export const watchOutbox: (metrics: Metrics, service: string, probe: OutboxProbe) => () => void =
  scrapedPerService<OutboxLag>((read, registers) => {
    const gauge = (name: string, help: string, valueOf: (lag: OutboxLag) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['service'],
        registers,
        async collect() {
          this.reset();
          for (const [service, lag] of await read()) this.set({ service }, valueOf(lag));
        },
      });
    gauge(
      'outbox_oldest_unpublished_age_seconds',
      'Age of the oldest unpublished outbox event (0 when none waits)',
      (lag) => lag.oldestAgeSeconds ?? 0,
    );
    gauge(
      'outbox_scheduled',
      'Scheduled outbox events waiting for their delivery time',
      (lag) => lag.scheduled,
    );
    gauge(
      'outbox_scheduled_overdue_seconds',
      'How long the oldest due scheduled event has waited for a relay to move it to the outbox (0 when none; above a second or two, no relay is running)',
      (lag) => lag.overdueSeconds ?? 0,
    );
    gauge('outbox_backlog', 'Outbox events not yet published', (lag) => lag.backlog);
  });

/** Readiness: down when the oldest unpublished event has waited longer than `maxLagSeconds`. */
export function outboxLagCheck(probe: OutboxProbe, maxLagSeconds: number): HealthCheck {
  return async () => {
    const { backlog, oldestAgeSeconds, overdueSeconds } = await probe();
    if (oldestAgeSeconds !== null && oldestAgeSeconds > maxLagSeconds)
      return {
        status: 'down',
        detail: `oldest unpublished event is ${Math.round(oldestAgeSeconds)} s old (limit ${maxLagSeconds} s, backlog ${backlog})`,
      };
    if (overdueSeconds !== null && overdueSeconds > maxLagSeconds)
      return {
        status: 'down',
        detail: `a scheduled event has been due for ${Math.round(overdueSeconds)} s (limit ${maxLagSeconds} s): no relay moves it`,
      };
    return { status: 'up' };
  };
}
