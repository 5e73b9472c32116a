import express, { type Express } from 'express';
import {
  healthHandler,
  notFoundHandler,
  problemHandler,
  requestContext,
  type HealthCheck,
  type Logger,
} from '@shop/platform';
import { orderRoutes, type OrderRoutesDeps } from './http/orders.routes';

export interface AppDeps extends OrderRoutesDeps {
  logger: Logger;
  checks: { database: HealthCheck; broker?: HealthCheck };
}

/** The order service's HTTP app, without listening (supertest and start() both use it). */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestContext(deps.logger));
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
