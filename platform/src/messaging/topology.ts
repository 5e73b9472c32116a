import { deadLetterQueueOf, EXCHANGES, type QueueSpec } from '@shop/contracts';
import type { Channel } from 'amqplib';

type TopologyChannel = Pick<Channel, 'assertExchange' | 'assertQueue' | 'bindQueue'>;

/**
 * Redeliveries (a consumer crashing mid-message) a quorum queue allows before it dead-letters a
 * message on its own. Consumers dead-letter far sooner by themselves; this only stops a message
 * that crashes every consumer that touches it from looping forever.
 */
export const DELIVERY_LIMIT = 20;

/**
 * Declares the shared exchanges and the given queues (SPEC §5). Every declaration is an assert
 * with fixed arguments, so every service can run it at every (re)connect and the broker ends in
 * the same state whoever ran first. Each queue is a durable quorum queue whose rejected messages
 * go through the direct exchange `dlx`, keyed by the queue's own name, to `<queue>.dlq`.
 */
const EXCHANGE_TYPES = [
  { name: EXCHANGES.orders, type: 'topic' },
  { name: EXCHANGES.inventory, type: 'topic' },
  { name: EXCHANGES.deadLetter, type: 'direct' },
] as const;

const DLQ_ARGUMENTS = { 'x-queue-type': 'quorum' };

const queueArguments = (queue: string) => ({
  'x-queue-type': 'quorum',
  'x-dead-letter-exchange': EXCHANGES.deadLetter,
  'x-dead-letter-routing-key': queue,
  'x-delivery-limit': DELIVERY_LIMIT,
});

export async function declareTopology(channel: TopologyChannel, queues: readonly QueueSpec[]): Promise<void> {
  for (const exchange of EXCHANGE_TYPES)
    await channel.assertExchange(exchange.name, exchange.type, { durable: true });
  for (const queue of queues) {
    const dlq = deadLetterQueueOf(queue.name);
    await channel.assertQueue(dlq, { durable: true, arguments: DLQ_ARGUMENTS });
    await channel.bindQueue(dlq, EXCHANGES.deadLetter, queue.name);
    await channel.assertQueue(queue.name, { durable: true, arguments: queueArguments(queue.name) });
    for (const binding of queue.bindings)
      await channel.bindQueue(queue.name, binding.exchange, binding.routingKey);
  }
}
