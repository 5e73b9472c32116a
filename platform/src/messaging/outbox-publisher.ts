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

/**
 * Publishes rows in order on a confirm channel with at most `window` unconfirmed at once, and
 * resolves only when the broker has confirmed every one of them. Publishing a window before
 * awaiting confirms keeps the throughput of pipelined publishing instead of paying one round
 * trip per message. The first failure (nack, timeout, lost channel) rejects the whole batch:
 * the relay then leaves all its rows unpublished, so a row is re-sent rather than ever lost.
 */
export async function publishConfirmed(
  channel: ChannelWrapper,
  rows: readonly OutboxRow[],
  { window, timeoutMs }: { window: number; timeoutMs: number },
): Promise<void> {
  let inFlight = 0;
  let failure: unknown;
  const slotFreed: (() => void)[] = [];
  const confirms: Promise<void>[] = [];
  for (const row of rows) {
    while (inFlight >= window) await new Promise<void>((resolve) => slotFreed.push(resolve));
    if (failure !== undefined) break;
    inFlight++;
    const confirm = channel
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
      .then(
        () => undefined,
        (error: unknown) => {
          failure ??= error;
        },
      )
      .finally(() => {
        inFlight--;
        slotFreed.shift()?.();
      });
    confirms.push(confirm);
  }
  await Promise.all(confirms);
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
}
