import {
  deadLetterQueueOf,
  type AnyEvent,
  type EventType,
  type QueueSpec,
  type TypedEvent,
} from '@shop/contracts';
import type { Channel, ConsumeMessage } from 'amqplib';
import { describeDatabaseError, isDatabaseUnavailable } from '../database-connection-errors';
import type { Logger } from '../logger';
import { processMetrics, type Metrics } from '../observability/metrics';
import { traceIdOf } from '../observability/trace-context';
import { backoffDelay, createSleeper, type BackoffOptions } from './backoff';
import type { ChannelWrapper } from 'amqp-connection-manager';
import { closeChannel, withTimeout, type BrokerConnection } from './broker-connection';
import { decodeMessage } from './decode-message';
import { isEventOutOfOrder, placeOf, type InboxClaim } from './inbox';
import { createLimiter } from './limiter';
import { declareTopology } from './topology';

/** What a handler did, for the log line: `duplicate` when the inbox had already seen the event. */
export type HandlerOutcome = 'applied' | 'duplicate' | 'ignored';

export interface HandlerContext {
  /** The inbox name (the queue name unless overridden). */
  consumer: string;
  /**
   * The claim to pass to `claimInbox` or `inTransactionOnce`. It records the event's place in its
   * order's history and holds back an event that came before its turn (SPEC §6 "Ordering").
   */
  claim: InboxClaim;
  /** Carries event_id, correlation_id and order_id. */
  logger: Logger;
  /** 1 on the first try, counting in-process retries. */
  attempt: number;
  redelivered: boolean;
}

export type EventHandler<T extends EventType> = (
  event: TypedEvent<T>,
  context: HandlerContext,
) => Promise<HandlerOutcome | void>;

export type EventHandlers = { [T in EventType]?: EventHandler<T> };

/** Throw this (or any error with `retryable: false`) when retrying cannot help: the message dead-letters at once. */
export class PermanentHandlerError extends Error {
  readonly retryable = false;
}

/** One delivery of a batch: its event and the context its handler would get. */
export interface BatchedEvent {
  event: AnyEvent;
  context: HandlerContext;
}

/**
 * Deliveries that arrive together, handled in one call: one transaction and one commit for them
 * all (`inTransactionOnceEach`) instead of one each.
 */
export interface BatchHandler {
  /** The most deliveries in one call; keep it at or below the prefetch. */
  maxSize: number;
  /** The event types that join a batch; others go to their handler one at a time. Default: all. */
  handles?: readonly EventType[];
  /**
   * Applies every event exactly once, all or nothing, and answers each one's outcome in the order
   * given. When it throws, the consumer handles the same events one at a time with `handlers`
   * (retries, dead-lettering, events that came early, as ever), so a message that fails fails alone;
   * whatever of the batch did commit, the inbox then answers as a duplicate.
   */
  handle(batch: readonly BatchedEvent[]): Promise<readonly (HandlerOutcome | void)[]>;
}

export interface ConsumerOptions {
  connection: BrokerConnection;
  /** The queue to consume; it (and its DLQ) is declared on every (re)connect. */
  queue: QueueSpec;
  handlers: EventHandlers;
  logger: Logger;
  /** Unacked messages in flight. Default 10. */
  prefetch?: number;
  /**
   * Handler calls running at once, a batch counting as one: each is a transaction on a connection,
   * so this is the consumer's share of its pool. Deliveries beyond it wait in the process. Default:
   * the prefetch.
   */
  concurrency?: number;
  /**
   * Handler runs per message before dead-lettering. Default 5. Runs that failed because the
   * database was unreachable do not count: those retry (with backoff) until it is back.
   */
  maxAttempts?: number;
  /** Wait between handler retries. Default 100 ms … 5 s. */
  backoff?: BackoffOptions;
  /**
   * How long an event that came before its turn waits for what must precede it (the previous event
   * of its order's stream, or its cause) before it is dead-lettered, as the SPEC has it, with the
   * one it waits for. Default 60 s.
   */
  orderWaitMs?: number;
  /** Inbox name; default the queue name. */
  consumerName?: string;
  /** Where consumed/failed/dead-lettered counts and processing latency go. Default: the process registry. */
  metrics?: Metrics;
  /**
   * Handle the deliveries that arrive together as one batch (those amqplib hands over before the
   * event loop's next turn, up to `maxSize`; a lone delivery goes to `handlers` as without it). Only events `handlers` handles
   * join a batch: those are what a failed batch falls back on.
   */
  batch?: BatchHandler;
}

export interface Consumer {
  /**
   * Starts consuming as soon as the broker is reachable, and again after every reconnect. Never
   * waits for the broker, so a service starts (and serves HTTP) while RabbitMQ is down.
   */
  start(): void;
  /** Resolves once the consumer is consuming; rejects after `timeoutMs`. For tests and readiness. */
  waitUntilConsuming(timeoutMs?: number): Promise<void>;
  /** Stops taking messages, lets in-flight handlers finish and settles them, then closes its channel. */
  stop(): Promise<void>;
}

/**
 * The inbox consumer (SPEC §6): at-least-once delivery, effectively-once effects.
 *
 * Messages are acked manually and only after the handler resolved — i.e. after its transaction
 * (effect + inbox row, see `claimInbox`) committed — so a crash means redelivery, never
 * loss, and the inbox makes the redelivery a no-op. A message that can never succeed (bad JSON,
 * bad envelope, unknown type or schema version, invalid payload) is rejected without requeue at
 * once and reaches `<queue>.dlq` through `dlx`; the consumer goes on with the next. A handler that
 * throws is retried in-process with exponential backoff, then dead-lettered after `maxAttempts`;
 * one that failed only because the database is unreachable is retried until it is back (that is
 * no fault of the message, and dead-lettering it would turn every failover into DLQ replays).
 * Every message is settled on the channel it arrived on: after a reconnect the broker redelivers
 * whatever the old channel left unsettled. With `batch`, the deliveries that arrive together are
 * applied in one call (one transaction); a batch that fails is taken again one message at a time,
 * as above, and each message is acked once its batch committed.
 */
export function createConsumer(options: ConsumerOptions): Consumer {
  const { connection, queue, handlers } = options;
  const prefetch = options.prefetch ?? 10;
  const inTurn = createLimiter(options.concurrency ?? prefetch);
  const maxAttempts = options.maxAttempts ?? 5;
  const backoff = options.backoff ?? { initialMs: 100, maxMs: 5_000 };
  const consumerName = options.consumerName ?? queue.name;
  const orderWaitMs = options.orderWaitMs ?? 60_000;
  const handled = new Set(Object.keys(handlers) as EventType[]);
  const metrics = options.metrics ?? processMetrics();
  const logger = options.logger.child({ queue: queue.name });
  const inFlight = new Set<Promise<void>>();
  // One per message waiting to be tried again (a sleeper holds one wait), so stop() wakes them all.
  const pauses = new Set<ReturnType<typeof createSleeper>>();
  const pause = async (ms: number) => {
    const sleeper = createSleeper();
    pauses.add(sleeper);
    try {
      await sleeper.sleep(ms);
    } finally {
      pauses.delete(sleeper);
    }
  };
  let current: { channel: Channel; consumerTag: string } | undefined;
  let stopping = false;

  const dlq = deadLetterQueueOf(queue.name);

  // Re-run by the channel wrapper on every reconnect, so the queue exists and consuming resumes.
  const setup = async (ch: Channel) => {
    await declareTopology(ch, [queue]);
    await ch.prefetch(prefetch);
    const { consumerTag } = await ch.consume(queue.name, (message) => onMessage(ch, message), {
      noAck: false,
    });
    current = { channel: ch, consumerTag };
    logger.info('consumer started', { prefetch });
  };
  let channel: ChannelWrapper | undefined;

  function deadLetter(
    ch: Channel,
    message: ConsumeMessage,
    log: Logger,
    level: 'warn' | 'error',
    text: string,
    fields: Record<string, unknown>,
  ): void {
    log.log(level, text, { ...fields, dead_letter_queue: dlq });
    settle(ch, message, 'reject', log);
  }

  function onMessage(ch: Channel, message: ConsumeMessage | null): void {
    if (!message) {
      logger.warn('consumer cancelled by the broker; it resumes after the next reconnect');
      return;
    }
    const delivery = accept(ch, message);
    if (!delivery) return;
    const batch = options.batch;
    if (batch && (batch.handles?.includes(delivery.event.type) ?? true)) gather(delivery, batch);
    else track(apply(delivery));
  }

  function track(work: Promise<void>): void {
    const tracked = work.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  }

  /**
   * Settles at once what needs no handler (a message that breaks the contract is dead-lettered, an
   * event this consumer does not handle is acked) and returns the rest, ready to apply.
   */
  function accept(ch: Channel, message: ConsumeMessage): Delivery | undefined {
    const base = { message_id: message.properties.messageId, redelivered: message.fields.redelivered };
    const decoded = decodeMessage(message.content);
    if (!decoded.ok) {
      metrics.eventsDeadLettered.inc({ reason: decoded.reason });
      deadLetter(ch, message, logger, 'warn', 'message dead-lettered: it does not meet the contract', {
        ...base,
        ...decoded.ids,
        reason: decoded.reason,
        detail: decoded.detail,
      });
      return undefined;
    }
    const event = decoded.event;
    // The event's ids go on every line about it. The consumer's own lines pass them as fields; a
    // child logger (for the handler) is only made if the handler asks for one.
    const ids = logFieldsOf(event);
    const handler = handlers[event.type] as EventHandler<EventType> | undefined;
    if (!handler) {
      if (logger.isDebugEnabled())
        logger.debug('event not handled by this consumer, acked', { ...ids, ...base });
      metrics.eventsConsumed.inc({ type: event.type, outcome: 'ignored' });
      settle(ch, message, 'ack', logger);
      return undefined;
    }
    let eventLogger: Logger | undefined;
    return {
      ch,
      message,
      event,
      handler,
      base,
      ids,
      claim: { consumer: consumerName, eventId: event.id, place: placeOf(event, handled) },
      log: () => (eventLogger ??= logger.child(ids)),
      madeLogger: () => eventLogger,
    };
  }

  function contextOf(delivery: Delivery, attempt: number): HandlerContext {
    return {
      consumer: consumerName,
      claim: delivery.claim,
      get logger() {
        return delivery.log();
      },
      attempt,
      redelivered: delivery.message.fields.redelivered,
    };
  }

  /** The handler (or the batch, of `batched` events) succeeded: log, count, ack. */
  function succeeded(delivery: Delivery, outcome: HandlerOutcome, attempt: number, batched?: number): void {
    if (logger.isInfoEnabled()) {
      const text = outcome === 'duplicate' ? 'event skipped as duplicate' : 'event handled';
      const fields = { ...delivery.base, outcome, attempt, ...(batched !== undefined && { batched }) };
      const eventLogger = delivery.madeLogger();
      if (eventLogger) eventLogger.info(text, fields);
      else logger.info(text, { ...delivery.ids, ...fields });
    }
    metrics.eventsConsumed.inc({ type: delivery.event.type, outcome });
    settle(delivery.ch, delivery.message, 'ack', logger);
  }

  // Deliveries waiting for the rest of their read from the socket, to be handled as one batch.
  let gathered: Delivery[] = [];

  function gather(delivery: Delivery, batch: BatchHandler): void {
    gathered.push(delivery);
    // amqplib hands over the deliveries it reads from the socket as it parses them, so those of one
    // turn of the event loop (one read or a few) go as one batch once that turn is over (or once
    // full): no timer, and a lone delivery waits for nothing.
    if (gathered.length >= batch.maxSize) sendGathered(batch);
    else if (gathered.length === 1) setImmediate(() => sendGathered(batch));
  }

  function sendGathered(batch: BatchHandler): void {
    const deliveries = gathered;
    gathered = [];
    // On shutdown they stay unsettled; the broker redelivers them to the next consumer.
    if (deliveries.length === 0 || stopping) return;
    if (deliveries.length === 1) track(apply(deliveries[0]));
    else track(applyBatch(deliveries, batch));
  }

  async function applyBatch(deliveries: readonly Delivery[], batch: BatchHandler): Promise<void> {
    const stopTimers = deliveries.map((delivery) =>
      metrics.consumerProcessingSeconds.startTimer({ type: delivery.event.type }),
    );
    let outcomes: readonly (HandlerOutcome | void)[];
    try {
      outcomes = await inTurn(() =>
        batch.handle(
          deliveries.map((delivery) => ({ event: delivery.event, context: contextOf(delivery, 1) })),
        ),
      );
      if (outcomes.length !== deliveries.length)
        throw new Error(
          `the batch handler answered ${outcomes.length} outcomes for ${deliveries.length} events`,
        );
    } catch (error) {
      // Nothing of the batch took effect (after a handler that miscounted its outcomes, the inbox
      // makes what did a duplicate). Taken one at a time, the others go through and the one that
      // failed the batch retries, waits its turn or dead-letters on its own.
      const early = isEventOutOfOrder(error);
      logger.log(early ? 'info' : 'warn', 'batch not applied; its events are handled one at a time', {
        events: deliveries.length,
        err: early ? error.message : describeDatabaseError(error),
      });
      await Promise.all(deliveries.map((delivery) => apply(delivery)));
      return;
    }
    deliveries.forEach((delivery, index) => {
      stopTimers[index]();
      succeeded(delivery, outcomes[index] ?? 'applied', 1, deliveries.length);
    });
  }

  async function apply(delivery: Delivery): Promise<void> {
    const { ch, message, event, handler, base } = delivery;
    const stopTimer = metrics.consumerProcessingSeconds.startTimer({ type: event.type });
    let failures = 0;
    let earlyTries = 0;
    let earlySince: number | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        // Its turn is taken per attempt: an event waiting to be tried again holds no connection.
        const outcome = (await inTurn(() => handler(event, contextOf(delivery, attempt)))) ?? 'applied';
        stopTimer();
        return succeeded(delivery, outcome, attempt);
      } catch (error) {
        if (isEventOutOfOrder(error)) {
          // Not a failure: the event before it is on its way (another handler or instance has it,
          // or a retry does). It waits, holding one prefetch slot, and other orders go on meanwhile.
          metrics.eventsOutOfOrder.inc({ type: event.type });
          earlySince ??= Date.now();
          earlyTries++;
          if (Date.now() - earlySince >= orderWaitMs) {
            stopTimer();
            metrics.eventsDeadLettered.inc({ reason: 'out_of_order' });
            return deadLetter(
              ch,
              message,
              delivery.log(),
              'error',
              'event dead-lettered: what comes before it never took effect here',
              { ...base, attempt, waited_ms: Date.now() - earlySince, waiting_for: error.waitingFor },
            );
          }
          const waitMs = backoffDelay(earlyTries, EARLY_EVENT_BACKOFF);
          if (earlyTries === 1)
            delivery.log().info('event came before its turn, trying again', {
              ...base,
              waitMs,
              waiting_for: error.waitingFor,
            });
          if (stopping) return;
          await pause(waitMs);
          if (stopping) return;
          continue;
        }
        const err = error as Error & { retryable?: boolean };
        metrics.eventsFailed.inc({ type: event.type });
        const databaseDown = isDatabaseUnavailable(error);
        if (!databaseDown) failures++;
        if (!databaseDown && (err.retryable === false || failures >= maxAttempts)) {
          stopTimer();
          metrics.eventsDeadLettered.inc({ reason: 'handler_failed' });
          return deadLetter(ch, message, delivery.log(), 'error', 'event dead-lettered: handler failed', {
            ...base,
            attempt,
            err: err.message,
            stack: err.stack,
          });
        }
        const waitMs = backoffDelay(attempt, backoff);
        if (databaseDown)
          delivery.log().warn('database unavailable, retrying the event', {
            ...base,
            attempt,
            waitMs,
            err: describeDatabaseError(error),
          });
        else delivery.log().warn('handler failed, retrying', { ...base, attempt, waitMs, err: err.message });
        // On shutdown the message is left unsettled; the broker redelivers it to the next consumer.
        if (stopping) return;
        await pause(waitMs);
        if (stopping) return;
      }
    }
  }

  return {
    start: () => {
      channel ??= connection.createChannel({ name: `consumer:${queue.name}`, confirm: false, setup });
    },
    waitUntilConsuming: async (timeoutMs = 30_000) => {
      if (!channel) throw new Error('consumer not started');
      await withTimeout(channel.waitForConnect(), timeoutMs, `consumer ${queue.name} not consuming`);
    },
    stop: async () => {
      stopping = true;
      if (!channel) return;
      await withTimeout(channel.removeSetup(setup), 2_000).catch(() => undefined);
      if (current)
        await withTimeout(current.channel.cancel(current.consumerTag), 2_000).catch(() => undefined);
      for (const sleeper of pauses) sleeper.wake();
      await Promise.allSettled([...inFlight]);
      await closeChannel(channel);
      logger.info('consumer stopped');
    },
  };
}

/** A delivery this consumer handles, decoded, with what every line about it carries. */
interface Delivery {
  ch: Channel;
  message: ConsumeMessage;
  event: AnyEvent;
  handler: EventHandler<EventType>;
  claim: InboxClaim;
  /** The message's own fields for a log line. */
  base: { message_id: unknown; redelivered: boolean };
  /** The event's ids (logFieldsOf). */
  ids: Record<string, unknown>;
  /** A child logger with the ids, made on first use. */
  log(): Logger;
  /** That child logger if something made it, so a line need not make one. */
  madeLogger(): Logger | undefined;
}

/** An event that came before its turn is tried again soon: what it waits for is usually milliseconds away. */
const EARLY_EVENT_BACKOFF: BackoffOptions = { initialMs: 10, maxMs: 1_000 };

function settle(ch: Channel, message: ConsumeMessage, how: 'ack' | 'reject', logger: Logger): void {
  try {
    if (how === 'ack') ch.ack(message);
    else ch.nack(message, false, false);
  } catch (error) {
    // The channel closed under us; the broker redelivers the message, and the inbox absorbs it.
    logger.warn('could not settle message, it will be redelivered', { err: (error as Error).message });
  }
}

/** The ids every consumer log line carries. */
export function logFieldsOf(event: {
  id: string;
  correlationid: string;
  traceparent?: string | null;
  data: unknown;
}): Record<string, unknown> {
  const orderId = (event.data as { order_id?: unknown } | null)?.order_id;
  const traceId = traceIdOf(event.traceparent);
  return {
    event_id: event.id,
    correlation_id: event.correlationid,
    ...(traceId !== undefined && { trace_id: traceId }),
    ...(orderId !== undefined && { order_id: orderId }),
  };
}
