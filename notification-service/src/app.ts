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
import type { NotificationRepository } from './db/notification-repository';
import { notificationRoutes } from './http/notifications.routes';

export interface AppDeps {
  notifications: NotificationRepository;
  jwtSecret: string;
  logger: Logger;
  health: { database: HealthCheck; broker: HealthCheck };
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
    '/health',
    healthHandler('notification-service', {
      database: { check: deps.health.database, critical: true },
      broker: { check: deps.health.broker, critical: false },
    }),
  );
  app.use('/api/v1/notifications', notificationRoutes({ notifications: deps.notifications, jwtSecret: deps.jwtSecret }));
  app.use(notFoundHandler);
  app.use(problemHandler(deps.logger));
  return app;
}
