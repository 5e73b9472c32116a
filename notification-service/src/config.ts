import { z } from 'zod';
import {
  baseConfigShape,
  brokerConfigShape,
  inboxConfigShape,
  databaseConfigShape,
  httpPortConfigShape,
  type PoolBudget,
} from '@shop/platform';

/**
 * The notification service's Postgres connections, per instance (docs/scaling.md):
 *     20  events in flight (CONSUMER_PREFETCH's default), one short transaction each
 *   +  2  HTTP: a listing and the readiness probe's SELECT 1 run without waiting while the
 *         consumer is at its limit
 *   = 22
 * The pool no longer follows CONSUMER_PREFETCH (it was prefetch + 5): it is the budget. A prefetch
 * raised alone makes deliveries wait their turn for a connection; raise both to go faster.
 */
export const POOL_BUDGET: PoolBudget = {
  size: 20 + 2,
  usedBy: 'HTTP and the events consumer',
};

export const configShape = {
  ...baseConfigShape,
  ...httpPortConfigShape(8004, 'notification service'),
  ...databaseConfigShape('shop_notifications', 'notification', POOL_BUDGET),
  ...brokerConfigShape,
  ...inboxConfigShape,
  CONSUMER_PREFETCH: z.coerce
    .number()
    .int()
    .positive()
    .default(20)
    .describe('Unacked events the consumer works on at once'),
  CONSUMER_MAX_ATTEMPTS: z.coerce
    .number()
    .int()
    .positive()
    .default(5)
    .describe('Handler attempts per event before it is dead-lettered'),
};

export type Config = z.infer<z.ZodObject<typeof configShape>>;
