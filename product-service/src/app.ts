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
import type { ProductRepository } from './db/product-repository';
import { productRoutes } from './http/products.routes';

export interface AppDeps {
  products: ProductRepository;
  jwtSecret: string;
  logger: Logger;
  /** `outboxLag` (readiness only): down when the oldest unpublished event is older than OUTBOX_MAX_LAG. */
  health: { database: HealthCheck; broker: HealthCheck; outboxLag?: HealthCheck };
  /** Default: the process registry. */
  metrics?: Metrics;
}

/** The HTTP app without a listener, so tests drive it in-process. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestContext(deps.logger));
  app.use(httpMetrics(deps.metrics));
  app.get('/metrics', metricsHandler(deps.metrics));
  app.get(
    '/health/ready',
    healthHandler('product-service', {
      database: { check: deps.health.database, critical: true },
      ...(deps.health.outboxLag ? { outbox: { check: deps.health.outboxLag, critical: true } } : {}),
    }),
  );
  app.get(
    '/health',
    healthHandler('product-service', {
      database: { check: deps.health.database, critical: true },
      broker: { check: deps.health.broker, critical: false },
    }),
  );
  app.use('/api/v1/products', productRoutes({ products: deps.products, jwtSecret: deps.jwtSecret }));
  app.use(notFoundHandler);
  app.use(problemHandler(deps.logger));
  return app;
}
