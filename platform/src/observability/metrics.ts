import type { Request, RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * The Prometheus metrics of one process (issue 4): HTTP latency by route pattern and status, and
 * the messaging core's counters and latencies. Everything registers on one registry, which
 * `/metrics` serves as Prometheus text.
 */
export interface Metrics {
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  eventsPublished: Counter<'type'>;
  eventsConsumed: Counter<'type' | 'outcome'>;
  /** Every handler error, whether it is retried or, on the last attempt, dead-lettered. */
  eventsFailed: Counter<'type'>;
  eventsDeadLettered: Counter<'reason'>;
  /** Deliveries held back because what must precede them had not taken effect yet (SPEC §6 "Ordering"). */
  eventsOutOfOrder: Counter<'type'>;
  relayBatchSize: Histogram;
  relayPublishSeconds: Histogram;
  /** Claimed rows the relay held back behind an earlier unpublished row of their aggregate. */
  relayHeldBack: Counter;
  /** Scheduled outbox rows moved into the outbox once due. */
  scheduledReleased: Counter;
  consumerProcessingSeconds: Histogram<'type'>;
}

/** A fresh registry with every metric; `defaults` adds Node's process metrics (CPU, memory, event loop). */
export function createMetrics(options: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaults) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, express route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    eventsPublished: new Counter({
      name: 'events_published_total',
      help: 'Outbox events published to RabbitMQ and confirmed by the broker',
      labelNames: ['type'],
      registers,
    }),
    eventsConsumed: new Counter({
      name: 'events_consumed_total',
      help: 'Events a consumer acked, by type and outcome (applied, duplicate, ignored)',
      labelNames: ['type', 'outcome'],
      registers,
    }),
    eventsFailed: new Counter({
      name: 'events_failed_total',
      help: 'Handler errors (each one is retried or, on the last attempt, dead-lettered)',
      labelNames: ['type'],
      registers,
    }),
    eventsDeadLettered: new Counter({
      name: 'events_dead_lettered_total',
      help: 'Messages rejected to the dead-letter queue, by reason',
      labelNames: ['reason'],
      registers,
    }),
    eventsOutOfOrder: new Counter({
      name: 'events_out_of_order_total',
      help: 'Deliveries that came before an earlier event of their order had taken effect, held back and tried again',
      labelNames: ['type'],
      registers,
    }),
    scheduledReleased: new Counter({
      name: 'relay_scheduled_events_released_total',
      help: 'Scheduled outbox rows (a delivery time) moved into the outbox once due, to be published',
      registers,
    }),
    relayBatchSize: new Histogram({
      name: 'relay_batch_size',
      help: 'Rows the outbox relay published per non-empty batch',
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers,
    }),
    relayPublishSeconds: new Histogram({
      name: 'relay_publish_seconds',
      help: 'Time from publishing a batch to the last broker confirm',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    relayHeldBack: new Counter({
      name: 'relay_rows_held_back_total',
      help: 'Claimed outbox rows held back because an earlier row of their aggregate was still unpublished (per-aggregate order)',
      registers,
    }),
    consumerProcessingSeconds: new Histogram({
      name: 'consumer_processing_seconds',
      help: 'Time a consumer took to handle an event, retries included',
      labelNames: ['type'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
}

let processWide: Metrics | undefined;

/** The registry of this process (with Node's default metrics), created on first use. */
export function processMetrics(): Metrics {
  return (processWide ??= createMetrics({ defaults: true }));
}

const ROUTE = Symbol('shop.route');
const MATCHED_ROUTE = Symbol('shop.matchedRoute');
type LabelledRequest = Request & { [ROUTE]?: unknown; [MATCHED_ROUTE]?: string };
const noting = new WeakSet<object>();

/**
 * The router assigns `req.route` while the matching router's `baseUrl` is in place; an accessor
 * notes the pattern at that moment. It is defined once on the requests' prototype (express's
 * `app.request`), with the same two functions for every request: defined on each request, with
 * closures of its own, it cost the gateway about 0.1 ms of CPU per request (decision 38).
 */
function noteMatchedRoutes(req: Request): void {
  const prototype = Object.getPrototypeOf(req) as object;
  if (noting.has(prototype)) return;
  noting.add(prototype);
  Object.defineProperty(prototype, 'route', {
    configurable: true,
    get(this: LabelledRequest) {
      return this[ROUTE];
    },
    set(this: LabelledRequest, value: { path?: unknown } | undefined) {
      this[ROUTE] = value;
      if (typeof value?.path === 'string')
        this[MATCHED_ROUTE] = this.baseUrl && value.path === '/' ? this.baseUrl : `${this.baseUrl}${value.path}`;
    },
  });
}

/**
 * Times every request and labels it with the express route pattern (`/api/v1/orders/:id`), never
 * the raw URL, so the label set stays bounded. By the time the response finishes an error may have
 * unwound the routers, so the pattern is the one noted when the router matched it. A middleware
 * mount that answered itself (the gateway's proxies) is `<mount path>/*`; requests nothing matched
 * are `unmatched`.
 */
export function httpMetrics(metrics: Metrics = processMetrics()): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    noteMatchedRoutes(req);
    res.on('finish', () => {
      const label = (req as LabelledRequest)[MATCHED_ROUTE] ?? (req.baseUrl ? `${req.baseUrl}/*` : 'unmatched');
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.httpRequestDuration.observe(
        { method: req.method, route: label, status: String(res.statusCode) },
        seconds,
      );
    });
    next();
  };
}

/** GET /metrics: the registry as Prometheus text. */
export function metricsHandler(metrics: Metrics = processMetrics()): RequestHandler {
  return async (_req, res, next) => {
    try {
      const body = await metrics.registry.metrics();
      res.setHeader('Content-Type', metrics.registry.contentType);
      res.send(body);
    } catch (error) {
      next(error);
    }
  };
}
