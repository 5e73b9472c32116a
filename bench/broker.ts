import amqp, { type ChannelModel } from 'amqplib';
import type { BenchBroker } from './infra';

/** A plain amqplib connection to the bench vhost (on a cluster's first node), for the bench's own probes and baselines. */
export async function connectBroker(broker: BenchBroker): Promise<ChannelModel> {
  const connection = await amqp.connect(broker.urls[0]);
  connection.on('error', () => undefined); // a closed vhost at teardown is expected
  return connection;
}

/** A topic exchange with a quorum queue bound to all of it: where a drain's messages go, out of the services' sight. */
export async function declareScratchQueue(
  channel: import('amqplib').Channel,
  exchange: string,
  queue = exchange,
): Promise<void> {
  await channel.assertExchange(exchange, 'topic', { durable: true });
  await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.bindQueue(queue, exchange, '#');
}

/** Message counts of the given queues (0 for a queue that does not exist). */
export async function queueDepths(
  connection: ChannelModel,
  queues: readonly string[],
): Promise<Record<string, number>> {
  const depths: Record<string, number> = {};
  for (const queue of queues) {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    try {
      depths[queue] = (await channel.checkQueue(queue)).messageCount;
      await channel.close();
    } catch {
      depths[queue] = 0; // the channel is closed by the 404
    }
  }
  return depths;
}

/**
 * A bench consumer of `inventory` / `stock.reserved` on a temporary queue: records when each
 * order's StockReserved reached a subscriber (client clock).
 */
export async function subscribeStockReserved(connection: ChannelModel) {
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.assertExchange('inventory', 'topic', { durable: true });
  await channel.bindQueue(queue, 'inventory', 'stock.reserved');
  const receivedAt = new Map<number, number>();
  let duplicates = 0;
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      const now = performance.timeOrigin + performance.now();
      try {
        const event = JSON.parse(message.content.toString()) as { data?: { order_id?: number } };
        const orderId = event.data?.order_id;
        if (typeof orderId === 'number') {
          if (receivedAt.has(orderId)) duplicates++;
          else receivedAt.set(orderId, now);
        }
      } catch {
        // not ours to judge; the services' own consumers dead-letter bad messages
      }
    },
    { noAck: true },
  );
  return { receivedAt, duplicates: () => duplicates, close: () => channel.close().catch(() => undefined) };
}
