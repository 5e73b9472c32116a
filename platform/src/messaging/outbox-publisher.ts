import { CLOUDEVENTS_CONTENT_TYPE } from '@shop/contracts';
import type { ChannelWrapper } from 'amqp-connection-manager';

/** An outbox row as the relay claims it: enough to publish without re-encoding the payload. */
export interface OutboxRow {
  id: string;
  type: string;
  exchange: string;
  routing_key: string;
  /** The CloudEvents envelope exactly as stored (jsonb rendered as text). */
  body: string;
  headers: Record<string, unknown>;
  correlation_id: string | null;
  source: string | null;
  created_epoch: string;
}

/** One batch handed to the publisher: `issued` once every row is on the channel, `confirmed` once every row is confirmed. */
export interface PublishedBatch {
  issued: Promise<void>;
  /** Rejects with the batch's first failure (nack, timeout, lost channel, or an earlier batch's failure). */
  confirmed: Promise<void>;
}

export interface ConfirmPublisher {
  /**
   * Publishes `rows` in order once `after` has resolved (the previous batch is fully issued), so
   * batches queued one after another keep outbox order on the channel.
   */
  publish(rows: readonly OutboxRow[], after?: Promise<void>): PublishedBatch;
  /** Stops issuing for every batch not yet fully on the channel: they reject with `error`. */
  abort(error: Error): void;
  /** Forgets an earlier abort, for the next round of batches. */
  reset(): void;
}

/**
 * Publishes on a confirm channel with at most `window` unconfirmed messages at once, shared by
 * every batch in flight: the next batch fills the window while the previous one's confirms are
 * outstanding, so the pipeline never empties at a batch boundary. Publishing a window before
 * awaiting confirms keeps the throughput of pipelined publishing instead of paying one round trip
 * per message. The first failure in a batch rejects that batch (its rows stay unpublished and are
 * re-sent later, never lost).
 */
export function createConfirmPublisher(
  channel: ChannelWrapper,
  { window, timeoutMs }: { window: number; timeoutMs: number },
): ConfirmPublisher {
  let inFlight = 0;
  let aborted: Error | undefined;
  const slotFreed: (() => void)[] = [];
  const freeSlot = () => {
    inFlight--;
    slotFreed.shift()?.();
  };
  const waitForSlot = () => new Promise<void>((resolve) => slotFreed.push(resolve));

  return {
    abort: (error) => {
      aborted ??= error;
    },
    reset: () => {
      aborted = undefined;
    },
    publish: (rows, after = Promise.resolve()) => {
      let failure: Error | undefined;
      let outstanding = 1; // released when issuing ends
      let settle!: () => void;
      const confirmed = new Promise<void>((resolve, reject) => {
        settle = () => {
          if (--outstanding > 0) return;
          if (failure) reject(failure);
          else resolve();
        };
      });
      const onConfirm = () => {
        freeSlot();
        settle();
      };
      const onFailure = (error: unknown) => {
        failure ??= error instanceof Error ? error : new Error(String(error));
        freeSlot();
        settle();
      };
      const issued = after.then(async () => {
        try {
          for (const row of rows) {
            while (inFlight >= window) await waitForSlot();
            if (failure) break;
            if (aborted) {
              failure = aborted;
              break;
            }
            inFlight++;
            outstanding++;
            channel
              .publish(row.exchange, row.routing_key, Buffer.from(row.body), {
                messageId: row.id,
                type: row.type,
                persistent: true,
                contentType: CLOUDEVENTS_CONTENT_TYPE,
                timestamp: Number(row.created_epoch),
                correlationId: row.correlation_id ?? undefined,
                appId: row.source ?? undefined,
                headers: row.headers,
                timeout: timeoutMs,
              })
              .then(onConfirm, onFailure);
          }
        } finally {
          settle();
        }
      });
      return { issued, confirmed };
    },
  };
}

/**
 * Publishes rows in order with at most `window` unconfirmed at once and resolves only when the
 * broker has confirmed every one of them; the first failure rejects the whole batch.
 */
export async function publishConfirmed(
  channel: ChannelWrapper,
  rows: readonly OutboxRow[],
  options: { window: number; timeoutMs: number },
): Promise<void> {
  await createConfirmPublisher(channel, options).publish(rows).confirmed;
}
