import { deadLetterQueueOf, parseEvent, ROUTES, type EventType } from '@shop/contracts';
import type { Channel, ConfirmChannel, GetMessage, MessageProperties } from 'amqplib';
import { withBrokerSession, type BrokerSession } from './broker-session';
import { ToolError } from './tool-error';

/**
 * The dead-letter queue tools behind `npm run dlq` (SPEC §5). Every queue `<q>` dead-letters
 * through `dlx` into `<q>.dlq`; these functions inspect, replay and purge that DLQ.
 *
 * Nothing here can lose a message: messages are taken with manual acks, and a message is acked
 * off the DLQ only after the broker has confirmed its republished copy (publisher confirms, and
 * `mandatory` so that a copy no queue would receive counts as a failure). Everything not acked —
 * messages only looked at, filtered out, or that fail validation or publishing — is returned to
 * the DLQ when the channel is released.
 */

export interface DeadLetter {
  /** AMQP message id (the event id for our events). */
  id: string | null;
  /** Event type from the AMQP `type` property, else from the body. */
  type: string | null;
  /** Why the broker dead-lettered it: `rejected` (our consumer gave up), `delivery_limit`, `expired`, … */
  reason: string;
  /** How many times it died in the original queue, over all its replays. */
  deaths: number;
  /** How many times it was replayed from the DLQ before. */
  replays: number;
  /** Where it was published originally: where a replay sends it. */
  exchange: string | null;
  routingKey: string | null;
  deadLetteredAt: string | null;
  /** Would a replay accept it? `ok`, or the contract's reason and detail. */
  contract: { ok: true } | { ok: false; reason: string; detail: string };
  body: unknown;
}

export interface ReplayOutcome {
  replayed: { id: string | null; type: string | null; exchange: string; routingKey: string }[];
  /** Left in the DLQ, each with why. */
  kept: { id: string | null; type: string | null; why: string }[];
}

export interface QueueNames {
  queue: string;
  dlq: string;
}

/** Accepts the main queue's name or its DLQ's (`product-service.orders` or `product-service.orders.dlq`). */
export function deadLetterQueueNames(name: string): QueueNames {
  const trimmed = name.trim();
  if (!trimmed) throw new ToolError('a queue name is required, e.g. product-service.orders', 2);
  const queue = trimmed.endsWith('.dlq') ? trimmed.slice(0, -'.dlq'.length) : trimmed;
  return { queue, dlq: deadLetterQueueOf(queue) };
}

export interface DeadLetterList {
  dlq: string;
  /** Messages in the DLQ when listing began (more than `letters` when over the limit). */
  total: number;
  letters: DeadLetter[];
}

/** Lists the dead messages without removing any (each is returned to the DLQ). */
export async function listDeadLetters(
  url: string,
  queueName: string,
  options: { limit?: number } = {},
): Promise<DeadLetterList> {
  const names = deadLetterQueueNames(queueName);
  return withBrokerSession(url, async (session) => {
    const { messageCount } = await session.checkQueue(names.dlq);
    const limit = Math.min(messageCount, options.limit ?? 1_000);
    const letters = await withHeldMessages(session, names.dlq, limit, async (messages) =>
      messages.map((m) => describeDeadLetter(m, names.queue)),
    );
    return { dlq: names.dlq, total: messageCount, letters };
  });
}

/**
 * Replays dead messages (all, or the one with `id`): each is re-validated with the current
 * contract (`parseEvent`), republished to its original exchange and routing key, and acked off
 * the DLQ only once the broker confirmed the copy. Invalid or unroutable messages stay.
 */
export async function replayDeadLetters(
  url: string,
  queueName: string,
  options: { id?: string } = {},
): Promise<ReplayOutcome> {
  const names = deadLetterQueueNames(queueName);
  return withBrokerSession(url, async (session) => {
    const { messageCount } = await session.checkQueue(names.dlq);
    const outcome: ReplayOutcome = { replayed: [], kept: [] };
    let found = false;
    const publisher = await openPublisher(session);
    try {
      await withHeldMessages(session, names.dlq, messageCount, async (messages, channel) => {
        for (const message of messages) {
          const letter = describeDeadLetter(message, names.queue);
          if (options.id !== undefined && letter.id !== options.id && bodyId(letter.body) !== options.id)
            continue;
          found = true;
          const keep = (why: string) => outcome.kept.push({ id: letter.id, type: letter.type, why });
          if (!letter.contract.ok) {
            keep(`it no longer meets the contract (${letter.contract.reason}: ${letter.contract.detail})`);
            continue;
          }
          const target = targetOf(letter);
          if (!target) {
            keep('its original exchange and routing key are unknown (no x-death header, unknown type)');
            continue;
          }
          const failure = await publisher.publish(target.exchange, target.routingKey, message, letter);
          if (failure) {
            keep(failure);
            continue;
          }
          channel.ack(message);
          outcome.replayed.push({ id: letter.id, type: letter.type, ...target });
        }
      });
    } finally {
      await publisher.close();
    }
    if (options.id !== undefined && !found)
      throw new ToolError(`no message with id ${options.id} in ${names.dlq}`);
    return outcome;
  });
}

/** Deletes every message in the DLQ; returns how many there were. */
export async function purgeDeadLetters(
  url: string,
  queueName: string,
): Promise<{ dlq: string; purged: number }> {
  const names = deadLetterQueueNames(queueName);
  return withBrokerSession(url, async (session) => {
    await session.checkQueue(names.dlq);
    const channel = await session.channel();
    const { messageCount } = await channel.purgeQueue(names.dlq);
    await channel.close();
    return { dlq: names.dlq, purged: messageCount };
  });
}

/**
 * Takes up to `limit` messages off `queue` with manual acks and hands them to `work`; whatever
 * `work` did not ack goes back to the queue afterwards. Bounded by the depth at the start, so a
 * replayed message that dies again at once is not picked up twice.
 */
async function withHeldMessages<T>(
  session: BrokerSession,
  queue: string,
  limit: number,
  work: (messages: GetMessage[], channel: Channel) => Promise<T>,
): Promise<T> {
  const channel = await session.channel();
  try {
    const messages: GetMessage[] = [];
    while (messages.length < limit) {
      const message = await channel.get(queue, { noAck: false });
      if (!message) break;
      messages.push(message);
    }
    const result = await work(messages, channel);
    channel.nackAll(true);
    return result;
  } finally {
    // Closing the channel also returns anything still unacked, should `work` have thrown.
    await channel.close().catch(() => undefined);
  }
}

interface Publisher {
  /** Resolves to undefined once confirmed, or to why the copy was not accepted. */
  publish(
    exchange: string,
    routingKey: string,
    original: GetMessage,
    letter: DeadLetter,
  ): Promise<string | undefined>;
  close(): Promise<void>;
}

async function openPublisher(session: BrokerSession): Promise<Publisher> {
  let channel: ConfirmChannel | undefined;
  let returned = false;
  const checkedExchanges = new Map<string, boolean>();
  const open = async () => {
    const ch = await session.model.createConfirmChannel();
    ch.on('error', () => undefined);
    ch.on('return', () => {
      returned = true;
    });
    return ch;
  };
  return {
    publish: async (exchange, routingKey, original, letter) => {
      if (!checkedExchanges.has(exchange)) {
        checkedExchanges.set(
          exchange,
          await session.checkExchange(exchange).then(
            () => true,
            () => false,
          ),
        );
      }
      if (!checkedExchanges.get(exchange)) return `exchange "${exchange}" does not exist`;
      channel ??= await open();
      const ch = channel;
      returned = false;
      try {
        await new Promise<void>((resolve, reject) => {
          ch.publish(
            exchange,
            routingKey,
            original.content,
            { ...republishOptions(original.properties, letter), mandatory: true },
            (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
          );
        });
      } catch (error) {
        channel = undefined;
        return `the broker did not confirm the republished copy (${(error as Error).message})`;
      }
      // A basic.return always arrives before the confirm of the same message.
      if (returned) return `no queue is bound to exchange "${exchange}" with routing key "${routingKey}"`;
      return undefined;
    },
    close: async () => {
      await channel?.close().catch(() => undefined);
    },
  };
}

/**
 * Our own bookkeeping headers. Broker `x-` headers (x-death & co.) are the broker's: RabbitMQ 4
 * ignores them when a client publishes them, so a replayed copy goes without them and carries
 * its history in these instead.
 */
export const REPLAYS_HEADER = 'shop-dlq-replays';
export const PRIOR_DEATHS_HEADER = 'shop-dlq-prior-deaths';

/** The original properties, without the broker's x- headers, plus the replay history. */
function republishOptions(properties: MessageProperties, letter: DeadLetter) {
  const headers = Object.fromEntries(
    Object.entries(properties.headers ?? {}).filter(
      ([key]) => !/^x-(death|first-death-|last-death-|delivery-count)/.test(key),
    ),
  );
  headers[REPLAYS_HEADER] = letter.replays + 1;
  headers[PRIOR_DEATHS_HEADER] = letter.deaths;
  return {
    messageId: properties.messageId,
    type: properties.type,
    contentType: properties.contentType,
    contentEncoding: properties.contentEncoding,
    correlationId: properties.correlationId,
    appId: properties.appId,
    timestamp: properties.timestamp,
    persistent: true,
    headers,
  };
}

interface XDeath {
  queue?: string;
  reason?: string;
  count?: number;
  exchange?: string;
  'routing-keys'?: string[];
  time?: unknown;
}

export function describeDeadLetter(
  message: { content: Buffer; properties: MessageProperties },
  queue: string,
): DeadLetter {
  const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
  const deaths = Array.isArray(headers['x-death']) ? (headers['x-death'] as XDeath[]) : [];
  const death = deaths.find((d) => d.queue === queue) ?? deaths[0];
  let body: unknown;
  let contract: DeadLetter['contract'];
  try {
    body = JSON.parse(message.content.toString('utf8'));
    const parsed = parseEvent(body);
    contract = parsed.ok ? { ok: true } : { ok: false, reason: parsed.reason, detail: parsed.detail };
  } catch (error) {
    body = message.content.toString('utf8');
    contract = { ok: false, reason: 'invalid_json', detail: (error as Error).message };
  }
  const fromBody = (key: 'id' | 'type') => {
    const value = (body as Record<string, unknown> | null)?.[key];
    return typeof value === 'string' ? value : null;
  };
  return {
    id: stringOrNull(message.properties.messageId) ?? fromBody('id'),
    type: stringOrNull(message.properties.type) ?? fromBody('type'),
    reason:
      stringOrNull(headers['x-first-death-reason']) ??
      stringOrNull(death?.reason) ??
      'unknown (no x-death header)',
    deaths:
      (death?.count !== undefined ? Number(death.count) : deaths.length) +
      countHeader(headers[PRIOR_DEATHS_HEADER]),
    replays: countHeader(headers[REPLAYS_HEADER]),
    exchange: stringOrNull(death?.exchange) ?? stringOrNull(headers['x-first-death-exchange']),
    routingKey: death?.['routing-keys']?.[0] ?? null,
    deadLetteredAt: timeOf(death?.time),
    contract,
    body,
  };
}

/** The original exchange and key from x-death; for an event that lacks them, its contract route. */
function targetOf(letter: DeadLetter): { exchange: string; routingKey: string } | undefined {
  if (letter.exchange && letter.routingKey !== null)
    return { exchange: letter.exchange, routingKey: letter.routingKey };
  const route =
    letter.type && Object.hasOwn(ROUTES, letter.type) ? ROUTES[letter.type as EventType] : undefined;
  return route ? { exchange: route.exchange, routingKey: route.routingKey } : undefined;
}

function countHeader(value: unknown): number {
  const count = Number(value ?? 0);
  return Number.isInteger(count) && count > 0 ? count : 0;
}

function bodyId(body: unknown): string | undefined {
  const id = (body as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : undefined;
}

function stringOrNull(value: unknown): string | null {
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function timeOf(value: unknown): string | null {
  // amqplib decodes an AMQP timestamp as seconds, sometimes wrapped as { '!': 'timestamp', value }.
  const seconds = typeof value === 'number' ? value : (value as { value?: unknown } | null)?.value;
  return typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : null;
}
