import { connect, type Channel, type ChannelModel } from 'amqplib';
import { ToolError } from './tool-error';

/**
 * A short-lived, fail-fast broker connection for the operator tools. The services use
 * `createBrokerConnection`, which retries forever by design; a CLI must instead say at once
 * that the broker is unreachable, so the tools open one plain amqplib connection and close it.
 */
export interface BrokerSession {
  model: ChannelModel;
  /** A fresh channel; a failed passive check closes only that channel, never the session. */
  channel(): Promise<Channel>;
  /** Throws a ToolError when the queue does not exist; otherwise its current depth. */
  checkQueue(queue: string): Promise<{ messageCount: number; consumerCount: number }>;
  /** Throws a ToolError when the exchange does not exist. */
  checkExchange(exchange: string): Promise<void>;
  close(): Promise<void>;
}

export async function openBrokerSession(url: string, connectionName = 'shop-tools'): Promise<BrokerSession> {
  let model: ChannelModel;
  try {
    model = await connect(url, { timeout: 5_000, clientProperties: { connection_name: connectionName } });
  } catch (error) {
    throw new ToolError(`RabbitMQ is unreachable at ${redactUrl(url)}: ${describeError(error)}`);
  }
  // An 'error' without a listener would crash the process; the calls that fail reject anyway.
  model.on('error', () => undefined);
  const channel = async () => {
    const ch = await model.createChannel();
    ch.on('error', () => undefined);
    return ch;
  };
  const passive = async <T>(check: (ch: Channel) => Promise<T>, notFound: string): Promise<T> => {
    const ch = await channel();
    try {
      const result = await check(ch);
      await ch.close().catch(() => undefined);
      return result;
    } catch (error) {
      if (/NOT_FOUND|404/.test(describeError(error))) throw new ToolError(notFound);
      throw error;
    }
  };
  const vhost = vhostOf(url);
  return {
    model,
    channel,
    checkQueue: (queue) =>
      passive((ch) => ch.checkQueue(queue), `queue "${queue}" does not exist in vhost "${vhost}"`).then(
        ({ messageCount, consumerCount }) => ({ messageCount, consumerCount }),
      ),
    checkExchange: async (exchange) => {
      await passive(
        (ch) => ch.checkExchange(exchange),
        `exchange "${exchange}" does not exist in vhost "${vhost}"`,
      );
    },
    close: async () => {
      await model.close().catch(() => undefined);
    },
  };
}

/** Runs `work` in a session that is always closed afterwards. */
export async function withBrokerSession<T>(
  url: string,
  work: (session: BrokerSession) => Promise<T>,
): Promise<T> {
  const session = await openBrokerSession(url);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable AMQP URL)';
  }
}

function vhostOf(url: string): string {
  try {
    const path = new URL(url).pathname;
    return path.length > 1 ? decodeURIComponent(path.slice(1)) : '/';
  } catch {
    return '/';
  }
}

function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describeError(error.errors[0]);
  const err = error as { message?: string; code?: string };
  return err?.message || err?.code || String(error);
}
