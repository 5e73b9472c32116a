import type { z } from 'zod';
import {
  RELAY_DEFAULTS,
  baseConfigShape,
  brokerConfigShape,
  consumerConfigShape,
  inboxConfigShape,
  databaseConfigShape,
  httpPortConfigShape,
  outboxConfigShape,
  type PoolBudget,
} from '@shop/platform';

/** The order-events consumer's transactions at once, each on a connection of its own (see POOL_BUDGET). */
export const CONSUMER_TRANSACTIONS = 10;

/**
 * The product service's Postgres connections, per instance (docs/scaling.md). The outbox relay
 * shares the service's one pool, so the pool is the whole budget:
 *     10  transactions of the order-events consumer at once: a batch of the events that arrived
 *         together (up to CONSUMER_BATCH_SIZE) or one event each
 *   +  1  the relay's LISTEN, held for as long as the service runs
 *   +  2  relay batches in flight (RELAY_DEFAULTS.pipeline), each holding its claim's transaction
 *         until the broker confirms the batch
 *   +  2  HTTP: a catalogue read and the readiness probe's SELECT 1 run without waiting while all
 *         of the above are busy
 *   = 15
 */
export const POOL_BUDGET: PoolBudget = {
  size: CONSUMER_TRANSACTIONS + 1 + RELAY_DEFAULTS.pipeline + 2,
  usedBy: 'HTTP, the order-events consumer and the outbox relay, whose LISTEN holds one for good',
  fewest: {
    size: 2,
    because:
      "the outbox relay's LISTEN holds one of the pool's connections for as long as the service runs, and everything else needs another",
  },
};

export const configShape = {
  ...baseConfigShape,
  ...httpPortConfigShape(8001, 'product service'),
  ...databaseConfigShape('shop_products', 'product', POOL_BUDGET),
  ...brokerConfigShape,
  ...inboxConfigShape,
  ...outboxConfigShape,
  ...consumerConfigShape({ prefetch: 50, batchSize: 25 }),
};

export type Config = z.infer<z.ZodObject<typeof configShape>>;
