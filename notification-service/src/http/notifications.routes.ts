import { Router } from 'express';
import { ListNotificationsQuery } from '@shop/contracts';
import { authenticate, identityOf, parseWith, type TokenVerifier } from '@shop/platform';
import type { NotificationRepository } from '../db/notification-repository';
import { listNotifications } from '../use-cases/list-notifications';

/** /api/v1/notifications: a token is required (verified here too, not trusted from the gateway). */
export function notificationRoutes(deps: { notifications: NotificationRepository; tokens: TokenVerifier }): Router {
  const router = Router();
  router.use(authenticate(deps.tokens));

  router.get('/', async (req, res) => {
    const query = parseWith(ListNotificationsQuery, req.query, 'query');
    res.json(await listNotifications(deps.notifications, query, identityOf(res)));
  });

  return router;
}
