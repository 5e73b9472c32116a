import { parseEvent } from '@shop/contracts';
import type { ConsumeMessage } from 'amqplib';
import { openBrokerSession } from './broker-session';

/**
 * `npm run tail`: the smallest possible consumer, and the example the README points to for
 * "subscribe your own consumer". It binds a server-named, exclusive, auto-delete queue to an
 * exchange, so it sees copies of what flows without taking anything from the services' queues,
 * and the broker deletes the queue as soon as the tool disconnects.
 */
export interface TailedMessage {
  exchange: string;
  routingKey: string;
  messageId: string | null;
  type: string | null;
  receivedAt: string;
  /** The parsed JSON body (the CloudEvents envelope for our events), or the raw text. */
  body: unknown;
  /** null when the body is a valid event; otherwise why it is not. */
  invalid: string | null;
}

export interface Tail {
  /** The temporary queue's name. */
  queue: string;
  /** Resolves when the tail ends: `undefined` after stop(), the error when the broker went away. */
  ended: Promise<Error | undefined>;
  stop(): Promise<void>;
}

export interface TailOptions {
  routingKey?: string;
  onMessage: (message: TailedMessage) => void;
}

export async function tailExchange(url: string, exchange: string, options: TailOptions): Promise<Tail> {
  const session = await openBrokerSession(url, 'shop-tail');
  let stopping = false;
  try {
    await session.checkExchange(exchange);
    const channel = await session.channel();
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    await channel.bindQueue(queue, exchange, options.routingKey ?? '#');
    await channel.consume(queue, (message) => message && options.onMessage(toTailed(message)), {
      noAck: true,
    });
    const ended = new Promise<Error | undefined>((resolve) => {
      session.model.once('close', (err?: Error) =>
        resolve(stopping ? undefined : (err ?? new Error('the broker closed the connection'))),
      );
    });
    return {
      queue,
      ended,
      stop: async () => {
        stopping = true;
        await session.close();
      },
    };
  } catch (error) {
    await session.close();
    throw error;
  }
}

function toTailed(message: ConsumeMessage): TailedMessage {
  const text = message.content.toString('utf8');
  let body: unknown = text;
  let invalid: string | null;
  try {
    body = JSON.parse(text);
    const parsed = parseEvent(body);
    invalid = parsed.ok ? null : `${parsed.reason}: ${parsed.detail}`;
  } catch {
    invalid = 'invalid_json: the body is not JSON';
  }
  const envelope = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const str = (value: unknown) => (typeof value === 'string' && value ? value : null);
  return {
    exchange: message.fields.exchange,
    routingKey: message.fields.routingKey,
    messageId: str(message.properties.messageId) ?? str(envelope.id),
    type: str(message.properties.type) ?? str(envelope.type),
    receivedAt: new Date().toISOString(),
    body,
    invalid,
  };
}

/** One line per message: when, where, what, and the ids to grep the services' logs for. */
export function formatTailLine(message: TailedMessage): string {
  const envelope = (typeof message.body === 'object' && message.body !== null ? message.body : {}) as Record<
    string,
    unknown
  >;
  const parts = [
    message.receivedAt,
    `${message.exchange}/${message.routingKey}`,
    message.type ?? '(no type)',
    `id=${message.messageId ?? '-'}`,
  ];
  if (envelope.subject !== undefined) parts.push(`subject=${String(envelope.subject)}`);
  if (envelope.correlationid !== undefined) parts.push(`correlation=${String(envelope.correlationid)}`);
  if (message.invalid)
    parts.push(
      `INVALID ${message.invalid.length > 160 ? `${message.invalid.slice(0, 157)}...` : message.invalid}`,
    );
  return parts.join('  ');
}
