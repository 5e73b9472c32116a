import type { Express } from 'express';
import { createServiceApp, type ServiceChecks, type Logger, type Metrics } from '@shop/platform';
import { orderRoutes, type OrderRoutesDeps } from './http/orders.routes';

export interface AppDeps extends OrderRoutesDeps {
  logger: Logger;
  /** `outboxLag` (readiness only): down when the oldest unpublished event is older than OUTBOX_MAX_LAG. */
  checks: ServiceChecks;
  /** Default: the process registry. */
  metrics?: Metrics;
}

/** The order service's HTTP app, without listening (supertest and start() both use it). */
export function createApp(deps: AppDeps): Express {
  return createServiceApp({
    service: 'order-service',
    logger: deps.logger,
    metrics: deps.metrics,
    checks: deps.checks,
    routes: { '/api/v1/orders': orderRoutes(deps) },
  });
}
