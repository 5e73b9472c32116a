/** What the inbox consumer did with one delivery, as its log line tells an operator. */
export type DeliveryOutcome = 'applied' | 'duplicate' | 'ignored' | 'dead-lettered';

const OUTCOME_OF: Record<string, (line: Record<string, unknown>) => DeliveryOutcome> = {
  'event handled': (line) => (line.outcome === 'ignored' ? 'ignored' : 'applied'),
  'event skipped as duplicate': () => 'duplicate',
  'event not handled by this consumer, acked': () => 'ignored',
  'event dead-lettered: handler failed': () => 'dead-lettered',
  'message dead-lettered: it does not meet the contract': () => 'dead-lettered',
};

/**
 * How the platform consumer settled each delivery of `eventId` so far, in log order, read from the
 * lines of a `capturingLogger` (level info or below) given to the service. A delivery is logged as
 * it is acked or dead-lettered, after its handler's transaction ended, so once a test has seen a
 * duplicate's outcome here nothing more can come of that copy. This is how a test knows a duplicate
 * was processed when the consumer works on several messages at once and a later message therefore
 * cannot serve as a marker.
 */
export function deliveryOutcomes(
  lines: readonly Record<string, unknown>[],
  eventId: string,
): DeliveryOutcome[] {
  return lines.flatMap((line) => {
    const outcomeOf = OUTCOME_OF[String(line.message)];
    return line.event_id === eventId && outcomeOf ? [outcomeOf(line)] : [];
  });
}
