import { parseEvent, type AnyEvent, type EnvelopeParseResult } from '@shop/contracts';

type Rejection = Extract<EnvelopeParseResult, { ok: false }>['reason'] | 'invalid_json';

export type DecodedMessage =
  | { ok: true; event: AnyEvent }
  | { ok: false; reason: Rejection; detail: string; ids: Record<string, string | undefined> };

/**
 * Turns a delivery's body into a contract-checked event, or says why it never can be — a
 * message that fails here would fail on every redelivery, so the consumer dead-letters it at
 * once. Whatever ids the body does carry are kept for the log line.
 */
export function decodeMessage(content: Buffer): DecodedMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(content.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: 'invalid_json', detail: (error as Error).message, ids: {} };
  }
  const parsed = parseEvent(raw);
  if (parsed.ok) return parsed;
  const body = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    ok: false,
    reason: parsed.reason,
    detail: parsed.detail,
    ids: { event_id: text(body.id), event_type: text(body.type), correlation_id: text(body.correlationid) },
  };
}
