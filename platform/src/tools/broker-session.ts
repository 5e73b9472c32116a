import { connect, type Channel, type ChannelModel } from 'amqplib';
import { brokerUrls, redact } from '../messaging/broker-connection';
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

/**
 * `url` may list several brokers (the nodes of a cluster, as AMQP_URL does): they are tried in
 * turn, and the session is on the first that answers.
 */
export async function openBrokerSession(url: string, connectionName = 'shop-tools'): Promise<BrokerSession> {
  const { model, connectedUrl } = await connectToFirst(url, connectionName);
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
  const vhost = vhostOf(connectedUrl);
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

async function connectToFirst(
  url: string,
  connectionName: string,
): Promise<{ model: ChannelModel; connectedUrl: string }> {
  let urls: string[];
  try {
    urls = brokerUrls(url);
  } catch (error) {
    throw new ToolError(`bad broker URL: ${(error as Error).message}`, 2);
  }
  const failures: string[] = [];
  for (const candidate of urls) {
    try {
      const options = { timeout: 5_000, clientProperties: { connection_name: connectionName } };
      return { model: await connect(candidate, options), connectedUrl: candidate };
    } catch (error) {
      failures.push(`${redactUrl(candidate)}: ${describeError(error)}`);
    }
  }
  throw new ToolError(`RabbitMQ is unreachable at ${failures.join('; ')}`);
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

/** The URL (or each of a comma-separated list) without its password, for messages. */
export function redactUrl(url: string): string {
  return url
    .split(',')
    .map((one) => redact(one.trim()))
    .join(',');
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
