/**
 * The time budget of one POST /orders (ORDER_REQUEST_DEADLINE_MS), with no I/O: times are
 * milliseconds on a monotonic clock the caller reads.
 */

/** What is left of a request's deadline at `now`; never negative. */
export function timeLeftMs(deadline: number, now: number): number {
  return Math.max(0, deadline - now);
}

/**
 * The `Retry-After` (whole seconds) for a claim that may be taken over in `ms`: rounded up, so a
 * client that waits as told finds the claim free, and at least 1 (0 would invite a busy loop).
 */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
