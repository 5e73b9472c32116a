import { z } from 'zod';
import {
  baseConfigShape,
  brokerConfigShape,
  consumerConfigShape,
  inboxConfigShape,
  databaseConfigShape,
  httpPortConfigShape,
  type PoolBudget,
} from '@shop/platform';

/** The events consumer's transactions at once, each on a connection of its own (see POOL_BUDGET). */
export const CONSUMER_TRANSACTIONS = 20;

/**
 * The notification service's Postgres connections, per instance (docs/scaling.md):
 *     20  transactions of the events consumer at once: a batch of the events that arrived together
 *         (up to CONSUMER_BATCH_SIZE) or one event each
 *   +  2  HTTP: a listing and the readiness probe's SELECT 1 run without waiting while the
 *         consumer is at its limit
 *   = 22
 * The pool does not follow CONSUMER_PREFETCH: it is the budget. Events in flight beyond what the
 * consumer's transactions hold wait their turn for a connection.
 */
export const POOL_BUDGET: PoolBudget = {
  size: CONSUMER_TRANSACTIONS + 2,
  usedBy: 'HTTP and the events consumer',
};

export const configShape = {
  ...baseConfigShape,
  ...httpPortConfigShape(8004, 'notification service'),
  ...databaseConfigShape('shop_notifications', 'notification', POOL_BUDGET),
  ...brokerConfigShape,
  ...inboxConfigShape,
  ...consumerConfigShape({ prefetch: 100, batchSize: 25 }),
  CONSUMER_MAX_ATTEMPTS: z.coerce
    .number()
    .int()
    .positive()
    .default(5)
    .describe('Handler attempts per event before it is dead-lettered'),
};

export type Config = z.infer<z.ZodObject<typeof configShape>>;
