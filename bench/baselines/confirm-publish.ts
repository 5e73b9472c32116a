import { randomUUID } from 'node:crypto';
import type { ChannelModel } from 'amqplib';

/**
 * Baseline of phase 3: raw amqplib publishing of `count` messages of the relay's shape (same
 * body, properties, exchange and routing key) on one confirm channel with at most `window`
 * unconfirmed at once — what a relay could do if reading and marking rows cost nothing.
 */
export async function runConfirmPublishBaseline(
  connection: ChannelModel,
  options: {
    exchange: string;
    routingKey: string;
    body: (id: string) => string;
    count: number;
    window: number;
  },
): Promise<{ messagesPerSecond: number; seconds: number }> {
  const channel = await connection.createConfirmChannel();
  const started = performance.now();
  let sent = 0;
  let confirmed = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      while (sent < options.count && sent - confirmed < options.window) {
        const id = randomUUID();
        sent++;
        channel.publish(
          options.exchange,
          options.routingKey,
          Buffer.from(options.body(id)),
          {
            messageId: id,
            type: 'OrderCreated',
            persistent: true,
            contentType: 'application/cloudevents+json',
            timestamp: Math.floor(Date.now() / 1000),
            headers: {},
          },
          (error) => {
            if (error) return reject(new Error(`broker nacked a baseline publish: ${String(error)}`));
            confirmed++;
            if (confirmed === options.count) resolve();
            else pump();
          },
        );
      }
    };
    pump();
  });
  const seconds = (performance.now() - started) / 1000;
  await channel.close();
  return { messagesPerSecond: options.count / seconds, seconds };
}
