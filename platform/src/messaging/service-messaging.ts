import type { QueueSpec } from '@shop/contracts';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { HealthCheck } from '../health';
import type { Logger } from '../logger';
import { closeChannel, createBrokerConnection, type BrokerConnection } from './broker-connection';
import type { Consumer } from './consumer';
import type { OutboxRelay } from './outbox-relay';
import { declareTopology } from './topology';

export interface ServiceMessagingOptions {
  /** The service's name, shown in the broker's connection list. */
  name: string;
  url: string;
  logger: Logger;
  /** How long start() waits for the consumers before it goes on without them. */
  startupWaitMs: number;
  /** The in-process outbox relay, if this process runs one. */
  relay?: (connection: BrokerConnection) => OutboxRelay;
  /** The inbox consumers this process runs. */
  consumers?: (connection: BrokerConnection) => Consumer[];
  /**
   * Queues declared on every connect on a channel of their own, so they exist (and collect their
   * events) even when this process runs no consumer for them.
   */
  declareQueues?: QueueSpec[];
  /** What /health says about the broker while it is away. Default 'not connected'. */
  downDetail?: string;
}

export interface ServiceMessaging {
  /** For /health: `up` while the broker connection is open, `down` with `downDetail` otherwise. */
  brokerCheck: HealthCheck;
  /**
   * Starts the relay, then the consumers, and waits up to `startupWaitMs` for the consumers. A
   * broker that is away only logs a warning: the service serves HTTP anyway, and the connection,
   * consumers and relay attach by themselves when it arrives.
   */
  start(): Promise<void>;
  /** Resolves once every consumer is consuming (at once when there are none); rejects after `timeoutMs`. */
  waitUntilConsuming(timeoutMs?: number): Promise<void>;
  /** Stops the consumers (their in-flight handlers settle), then the relay, then closes the channels and the connection. */
  stop(): Promise<void>;
}

/**
 * A service's messaging, wired the one way every service wires it: one broker connection, the
 * queues it must declare, its consumers and its outbox relay, a broker health check, and a
 * shutdown that stops taking messages before it stops publishing and closes the connection last.
 */
export function createServiceMessaging(options: ServiceMessagingOptions): ServiceMessaging {
  const { logger, startupWaitMs } = options;
  const connection = createBrokerConnection({ url: options.url, logger, name: options.name, spread: true });
  const topology = options.declareQueues
    ? declareOnEveryConnect(connection, options.declareQueues)
    : undefined;
  const consumers = options.consumers?.(connection) ?? [];
  const relay = options.relay?.(connection);
  const downDetail = options.downDetail ?? 'not connected';

  const waitUntilConsuming = async (timeoutMs?: number) => {
    await Promise.all(consumers.map((consumer) => consumer.waitUntilConsuming(timeoutMs)));
  };

  return {
    brokerCheck: async () =>
      connection.isConnected() ? { status: 'up' } : { status: 'down', detail: downDetail },
    start: async () => {
      await relay?.start();
      for (const consumer of consumers) consumer.start();
      // A short grace period so the service's queues exist before its first request; after it,
      // HTTP serves anyway and the consumers attach whenever the broker arrives.
      await waitUntilConsuming(startupWaitMs).catch(() =>
        logger.warn('RabbitMQ not reachable yet; serving HTTP, consuming once it is', {
          wait_ms: startupWaitMs,
        }),
      );
    },
    waitUntilConsuming,
    stop: async () => {
      for (const consumer of consumers) await consumer.stop();
      await relay?.stop();
      if (topology) await closeChannel(topology);
      await connection.close();
    },
  };
}

function declareOnEveryConnect(connection: BrokerConnection, queues: QueueSpec[]): ChannelWrapper {
  return connection.createChannel({
    name: 'topology',
    confirm: false,
    setup: (channel: Parameters<typeof declareTopology>[0]) => declareTopology(channel, queues),
  });
}
