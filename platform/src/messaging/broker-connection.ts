import { randomInt } from 'node:crypto';
import amqp, {
  type AmqpConnectionManager,
  type ChannelWrapper,
  type CreateChannelOpts,
} from 'amqp-connection-manager';
import type { Logger } from '../logger';
import { urlList } from '../url-list';
import { backoffDelay, createSleeper, type BackoffOptions } from './backoff';

export interface BrokerConnectionOptions {
  /** One broker's URL, or several, comma-separated (the nodes of a cluster): see `brokerUrls`. */
  url: string;
  logger: Logger;
  /** Shown in the broker's connection list. */
  name?: string;
  heartbeatSeconds?: number;
  /** Delay between reconnect attempts while the broker is away. */
  reconnect?: BackoffOptions;
  /** How long one broker may take to accept the connection and finish the handshake. Default 5 s. */
  connectTimeoutMs?: number;
  /**
   * Start at a broker picked at random instead of the first listed, then go round the list in its
   * order. The services do, so that every instance given the same list does not put all of its
   * connections (and their channels' work) on the cluster's first node. Default false: the list's order.
   */
  spread?: boolean;
}

export interface BrokerConnection {
  /** A channel that is re-created (and its setup re-run) after every reconnect. */
  createChannel(options: CreateChannelOpts): ChannelWrapper;
  /** True while a broker connection is open: for health checks and for the relay to wait. */
  isConnected(): boolean;
  /** Calls `listener` after every (re)connect; returns a function that removes it. */
  onConnect(listener: () => void): () => void;
  /** Resolves on the next successful connect, or rejects after `timeoutMs`. */
  waitForConnect(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const rotated = <T>(items: readonly T[], by: number): T[] => [...items.slice(by), ...items.slice(0, by)];

const DEFAULT_RECONNECT: BackoffOptions = { initialMs: 250, maxMs: 15_000 };
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/**
 * The brokers an `AMQP_URL` names (SPEC §9): one URL, or several separated by commas — the nodes of
 * one cluster, tried in turn. Throws a TypeError naming the bad entry if one is not an amqp(s) URL.
 */
export function brokerUrls(value: string): string[] {
  return urlList(value, { what: 'broker', protocols: ['amqp:', 'amqps:'], shown: redact });
}

/**
 * One broker connection per process over amqp-connection-manager, which re-opens the
 * connection and every channel after a loss, re-running channel setups (topology, consumers).
 * With several brokers (the nodes of a cluster) it tries them in turn: a connection that drops
 * goes straight to the next node, and only when a whole pass over the list failed does it wait.
 * What it adds: reconnect delays that grow exponentially with jitter (the library retries at a
 * fixed interval, so the delay is taken inside `findServers`, which it calls before each pass
 * over the list), and listeners on every event and channel so that 'error', 'close' and 'blocked'
 * become log lines, never an unhandled 'error' that kills the process.
 */
export function createBrokerConnection(options: BrokerConnectionOptions): BrokerConnection {
  const { logger } = options;
  const reconnect = options.reconnect ?? DEFAULT_RECONNECT;
  const listed = brokerUrls(options.url);
  const urls = options.spread ? rotated(listed, randomInt(listed.length)) : listed;
  const brokers = listed.map(redact).join(', ');
  const sleeper = createSleeper();
  let failedAttempts = 0;
  let closed = false;

  const manager: AmqpConnectionManager = amqp.connect([], {
    heartbeatIntervalInSeconds: options.heartbeatSeconds ?? 5,
    // The library's own fixed wait; the real backoff happens in findServers below.
    reconnectTimeInSeconds: 0.05,
    // TCP_NODELAY: without it a publish written right after a small frame the broker has not yet
    // acknowledged (a consumer's basic.ack, a heartbeat) waits for the broker's delayed TCP ack,
    // ~40 ms on Linux, before it leaves this process (Nagle's algorithm).
    // `timeout`: amqplib waits for a TCP connect and the AMQP handshake without limit; a node that
    // accepts and never answers (a paused process) would hold the connection there for good instead
    // of letting it move to the next broker.
    connectionOptions: {
      noDelay: true,
      timeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      clientProperties: { connection_name: options.name ?? 'shop' },
    },
    findServers: async () => {
      const failedPasses = Math.floor(failedAttempts / urls.length);
      if (failedPasses > 0 && !closed) await sleeper.sleep(backoffDelay(failedPasses, reconnect));
      return urls;
    },
  });
  let broker = redact(urls[0]!);

  manager.on('connect', ({ url }) => {
    failedAttempts = 0;
    broker = typeof url === 'string' ? redact(url) : broker;
    logger.info('broker connected', { broker, ...(urls.length > 1 && { brokers }) });
  });
  manager.on('connectFailed', ({ err, url }) => {
    failedAttempts++;
    const attempted = typeof url === 'string' ? redact(url) : brokers;
    const next = urls.length > 1 ? 'trying the next broker' : 'retrying';
    logger.warn(`broker connect failed, ${next}`, {
      broker: attempted,
      attempt: failedAttempts,
      err: err.message,
    });
  });
  manager.on('disconnect', ({ err }) => {
    // One broker: wait before reconnecting to it. Several: go to the next one at once.
    failedAttempts = Math.max(failedAttempts, 1);
    if (!closed) logger.warn('broker disconnected, reconnecting', { broker, err: err?.message });
  });
  manager.on('blocked', ({ reason }) => logger.warn('broker blocked publishing', { broker, reason }));
  manager.on('unblocked', () => logger.info('broker unblocked publishing', { broker }));
  manager.on('error', (err: Error) => logger.error('broker connection error', { broker, err: err.message }));

  return {
    createChannel: (channelOptions) => {
      const channel = manager.createChannel(channelOptions);
      channel.on('error', (err: Error, info?: { name?: string }) =>
        logger.error('broker channel error', {
          broker,
          channel: info?.name ?? channelOptions.name,
          err: err.message,
        }),
      );
      return channel;
    },
    isConnected: () => manager.isConnected(),
    onConnect: (listener) => {
      manager.on('connect', listener);
      return () => manager.removeListener('connect', listener);
    },
    waitForConnect: async (timeoutMs = 30_000) => {
      if (manager.isConnected()) return;
      await manager.connect({ timeout: timeoutMs });
    },
    close: async () => {
      closed = true;
      sleeper.wake();
      await manager.close();
      logger.info('broker connection closed', { broker });
    },
  };
}

/**
 * Closes a channel without ever hanging shutdown: amqp-connection-manager can keep a reference
 * to a channel opened just as the connection dropped, and closing that one never completes.
 */
export async function closeChannel(channel: ChannelWrapper, timeoutMs = 2_000): Promise<void> {
  await withTimeout(channel.close(), timeoutMs).catch(() => undefined);
}

/** Rejects if `promise` has not settled within `timeoutMs`, so a dead broker cannot hang a caller. */
export async function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  message = 'timed out',
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), timeoutMs))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A broker URL as logs and errors show it: the password hidden. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = parsed.password ? '***' : '';
    return parsed.toString();
  } catch {
    return 'amqp://(unparseable url)';
  }
}
