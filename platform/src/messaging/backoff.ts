/**
 * Exponential backoff with full-range jitter, capped: many processes retrying against the same
 * broker or database spread out instead of hammering it in lockstep.
 */
export interface BackoffOptions {
  /** Delay before the first retry. */
  initialMs: number;
  /** No delay is ever longer than this. */
  maxMs: number;
}

/** `attempt` counts from 1; the delay lies in [base/2, base] where base = initialMs·2^(attempt-1) ≤ maxMs. */
export function backoffDelay(attempt: number, { initialMs, maxMs }: BackoffOptions): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/** A sleep that can be cut short, so shutdown or a wake-up never waits out a long backoff. */
export interface Sleeper {
  sleep(ms: number): Promise<void>;
  wake(): void;
}

export function createSleeper(): Sleeper {
  let pending: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  return {
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          pending = undefined;
          resolve();
        }, ms);
        pending = { timer, resolve };
      }),
    wake: () => {
      if (!pending) return;
      clearTimeout(pending.timer);
      const { resolve } = pending;
      pending = undefined;
      resolve();
    },
  };
}
