import express, { type Express, type Router } from 'express';
import { healthHandler, type HealthCheck } from '../health';
import type { Logger } from '../logger';
import { httpMetrics, metricsHandler, type Metrics } from '../observability';
import { methodNotAllowed } from './method-not-allowed';
import { notFoundHandler, problemHandler } from './problem';
import { requestContext } from './request-context';

export interface ServiceChecks {
  /** Critical: the service is `down` (503) without it. */
  database: HealthCheck;
  /** Not critical: without the broker the service is `degraded` but serves (events wait in the outbox). */
  broker?: HealthCheck;
  /** Readiness only: down when the oldest unpublished outbox event is older than OUTBOX_MAX_LAG. */
  outboxLag?: HealthCheck;
}

/**
 * The frame every service's HTTP app shares, so each service contributes only its routes: request
 * ids and the access log, HTTP metrics and `/metrics`, `/health` (and `/health/ready` for a service
 * with an outbox), then the routes, then 405 (a known path, another method), 404 and the one
 * problem+json error handler.
 */
export function createServiceApp(options: {
  service: string;
  logger: Logger;
  checks: ServiceChecks;
  routes: Record<string, Router>;
  metrics?: Metrics;
}): Express {
  const { service, logger, checks, metrics } = options;
  const app = express();
  app.disable('x-powered-by');
  // The gateway on the same host forwards the caller's address.
  app.set('trust proxy', 'loopback');
  app.use(requestContext(logger));
  app.use(httpMetrics(metrics));
  app.get('/metrics', metricsHandler(metrics));
  if (checks.outboxLag) {
    app.get(
      '/health/ready',
      healthHandler(service, {
        database: { check: checks.database, critical: true },
        outbox: { check: checks.outboxLag, critical: true },
      }),
    );
  }
  app.get(
    '/health',
    healthHandler(service, {
      database: { check: checks.database, critical: true },
      ...(checks.broker ? { broker: { check: checks.broker, critical: false } } : {}),
    }),
  );
  for (const [path, router] of Object.entries(options.routes)) app.use(path, router);
  app.use(methodNotAllowed(app));
  app.use(notFoundHandler);
  app.use(problemHandler(logger));
  return app;
}
