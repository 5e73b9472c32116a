import type { QueueSpec } from '@shop/contracts';
import { connect, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { declareTopology } from '../../../src/messaging';

/**
 * Watches a queue from the outside with plain amqplib, as a broker-side witness of what the
 * code under test published or dead-lettered.
 */
export interface QueueProbe {
  messages: ConsumeMessage[];
  ids(): string[];
  close(): Promise<void>;
}

export async function probeQueue(url: string, queue: QueueSpec | string): Promise<QueueProbe> {
  const model: ChannelModel = await connect(url);
  const channel = await model.createChannel();
  const name = typeof queue === 'string' ? queue : queue.name;
  if (typeof queue !== 'string') await declareTopology(channel, [queue]);
  const messages: ConsumeMessage[] = [];
  await channel.consume(name, (message) => message && messages.push(message), { noAck: true });
  return {
    messages,
    ids: () => messages.map((message) => String(message.properties.messageId)),
    close: () => model.close(),
  };
}

/** Publishes raw bytes the way a misbehaving producer would. */
export async function publishRaw(
  url: string,
  exchange: string,
  routingKey: string,
  body: string | Buffer,
): Promise<void> {
  const model = await connect(url);
  const channel = await model.createConfirmChannel();
  channel.publish(exchange, routingKey, Buffer.isBuffer(body) ? body : Buffer.from(body), {
    persistent: true,
  });
  await channel.waitForConfirms();
  await model.close();
}
