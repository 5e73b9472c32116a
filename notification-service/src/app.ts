import type { Express } from 'express';
import { createServiceApp, type ServiceChecks, type Logger, type Metrics, type TokenVerifier } from '@shop/platform';
import type { NotificationRepository } from './db/notification-repository';
import { notificationRoutes } from './http/notifications.routes';

export interface AppDeps {
  notifications: NotificationRepository;
  tokens: TokenVerifier;
  logger: Logger;
  health: ServiceChecks;
  /** Default: the process registry. */
  metrics?: Metrics;
}

/** The HTTP app without a listener, so tests drive it in-process. */
export function createApp(deps: AppDeps): Express {
  return createServiceApp({
    service: 'notification-service',
    logger: deps.logger,
    metrics: deps.metrics,
    checks: deps.health,
    routes: { '/api/v1/notifications': notificationRoutes({ notifications: deps.notifications, tokens: deps.tokens }) },
  });
}
