import { EXCHANGES, QUEUES } from '@shop/contracts';
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { declareTopology } from '../../src/messaging';
import { buildOrderCreated, createTestVhost, eventually, type TestVhost } from '../../src/testing';

/** A vhost of its own with the services' topology declared, and a plain channel to drive it. */
export interface ToolsWorld {
  vhost: TestVhost;
  /** A confirm channel on the test's own connection, re-opened if a test closed the connections. */
  channel(): Promise<ConfirmChannel>;
  /** Publishes an event (or any body) the way the relay does, confirmed. */
  publish(
    body: unknown,
    route?: { exchange: string; routingKey: string },
    properties?: { messageId?: string; type?: string },
  ): Promise<void>;
  /** Takes the next message off `queue` and rejects it without requeue, as a consumer that gives up does. */
  rejectNext(queue: string): Promise<void>;
  depth(queue: string): Promise<number>;
  purgeAll(): Promise<void>;
  teardown(): Promise<void>;
}

export const UNREACHABLE_URL = 'amqp://guest:guest@127.0.0.1:1';
const ALL_QUEUES = Object.values(QUEUES);

export async function createToolsWorld(): Promise<ToolsWorld> {
  const vhost = await createTestVhost();
  let open: { model: ChannelModel; channel: ConfirmChannel } | undefined;
  const channelOf = async () => {
    if (!open) {
      const model = await connect(vhost.url);
      model.on('error', () => undefined);
      const ch = await model.createConfirmChannel();
      const current = { model, channel: ch };
      model.on('close', () => {
        if (open === current) open = undefined;
      });
      open = current;
    }
    return open.channel;
  };
  await declareTopology(await channelOf(), ALL_QUEUES);
  const depth = async (queue: string) => (await (await channelOf()).checkQueue(queue)).messageCount;
  return {
    vhost,
    channel: channelOf,
    publish: async (
      body,
      route = { exchange: EXCHANGES.orders, routingKey: 'order.created' },
      properties = {},
    ) => {
      const envelope = body as { id?: string; type?: string };
      const channel = await channelOf();
      channel.publish(route.exchange, route.routingKey, Buffer.from(JSON.stringify(body)), {
        persistent: true,
        contentType: 'application/cloudevents+json',
        messageId: properties.messageId ?? envelope.id,
        type: properties.type ?? envelope.type,
      });
      await channel.waitForConfirms();
    },
    rejectNext: async (queue) => {
      const channel = await channelOf();
      const message = await eventually(() => channel.get(queue, { noAck: false }), {
        description: `a message in ${queue}`,
      });
      channel.nack(message, false, false);
    },
    depth,
    purgeAll: async () => {
      const channel = await channelOf();
      for (const queue of ALL_QUEUES) {
        await channel.purgeQueue(queue.name);
        await channel.purgeQueue(`${queue.name}.dlq`);
      }
    },
    teardown: async () => {
      await open?.model.close().catch(() => undefined);
      await vhost.drop();
    },
  };
}

/** An OrderCreated whose payload breaks the contract (money as a number). */
export function buildInvalidOrderCreated(): Record<string, unknown> {
  const event = buildOrderCreated();
  return { ...event, data: { ...event.data, total_amount: 20 } };
}
