import express, { type Express } from 'express';
import {
  healthHandler,
  httpMetrics,
  metricsHandler,
  notFoundHandler,
  problemHandler,
  requestContext,
  type HealthCheck,
  type Logger,
  type Metrics,
} from '@shop/platform';
import { orderRoutes, type OrderRoutesDeps } from './http/orders.routes';

export interface AppDeps extends OrderRoutesDeps {
  logger: Logger;
  /** `outboxLag` (readiness only): down when the oldest unpublished event is older than OUTBOX_MAX_LAG. */
  checks: { database: HealthCheck; broker?: HealthCheck; outboxLag?: HealthCheck };
  /** Default: the process registry. */
  metrics?: Metrics;
}

/** The order service's HTTP app, without listening (supertest and start() both use it). */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestContext(deps.logger));
  app.use(httpMetrics(deps.metrics));
  app.get('/metrics', metricsHandler(deps.metrics));
  app.get(
    '/health/ready',
    healthHandler('order-service', {
      database: { check: deps.checks.database, critical: true },
      ...(deps.checks.outboxLag ? { outbox: { check: deps.checks.outboxLag, critical: true } } : {}),
    }),
  );
  app.get(
    '/health',
    healthHandler('order-service', {
      database: { check: deps.checks.database, critical: true },
      ...(deps.checks.broker ? { broker: { check: deps.checks.broker, critical: false } } : {}),
    }),
  );
  app.use('/api/v1/orders', orderRoutes(deps));
  app.use(notFoundHandler);
  app.use(problemHandler(deps.logger));
  return app;
}
