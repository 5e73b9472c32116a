import { setTimeout as sleep } from 'node:timers/promises';

export interface EventuallyOptions {
  /** How long to keep trying before the test fails. Default 10 s. */
  timeoutMs?: number;
  /** The pause between two tries. Default 25 ms. */
  intervalMs?: number;
  /** What the test waits for, named in the failure ("both deliveries settled"). */
  description?: string;
}

/**
 * The one way tests wait for something asynchronous to happen: runs `check` until it passes and
 * resolves with what it returned. A check passes when it neither throws nor returns `false`, so it
 * may be an assertion (`() => expect(rows).toHaveLength(2)`) or a probe that returns `false` until
 * its value is there (`() => messages.find(isMine) ?? false`). On timeout the failure names the
 * description and carries the last assertion error, so it reads like the assertion that never held.
 *
 * It waits for a presence, never for an absence: to show that something did not happen, send a
 * marker after it on the same path, wait for the marker's effect, then assert.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  options: EventuallyOptions = {},
): Promise<Exclude<T, false>> {
  const { timeoutMs = 10_000, intervalMs = 25, description = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const outcome = await tryOnce(check, deadline - Date.now());
    if (outcome.passed) return outcome.value as Exclude<T, false>;
    // A try cut short by the deadline says nothing; the failure keeps the last one that finished.
    const cutShort = outcome.error === STILL_RUNNING;
    if (!cutShort || lastError === undefined) lastError = outcome.error;
    const left = deadline - Date.now();
    if (left <= 0) throw timeoutError(description, timeoutMs, lastError, cutShort);
    await sleep(Math.min(intervalMs, left));
  }
}

type Outcome<T> = { passed: true; value: T } | { passed: false; error: unknown };

const STILL_RUNNING = Symbol('still running');

/** One run of the check, given up (not awaited further) once the time left is spent. */
async function tryOnce<T>(check: () => T | Promise<T>, timeLeftMs: number): Promise<Outcome<T>> {
  const giveUp = new AbortController();
  try {
    const value = await Promise.race([
      check(),
      sleep(Math.max(timeLeftMs, 0), STILL_RUNNING, { signal: giveUp.signal }),
    ]);
    if (value === STILL_RUNNING) return { passed: false, error: STILL_RUNNING };
    if (value === false) return { passed: false, error: undefined };
    return { passed: true, value: value as T };
  } catch (error) {
    return { passed: false, error };
  } finally {
    giveUp.abort();
  }
}

function timeoutError(description: string, timeoutMs: number, lastError: unknown, cutShort: boolean): Error {
  const which = cutShort ? 'the last try was still running at the deadline; the one before' : 'the last try';
  const why =
    lastError === STILL_RUNNING
      ? 'the only try was still running at the deadline'
      : lastError === undefined
        ? `${which} returned false`
        : `${which} failed: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
  const cause = lastError === STILL_RUNNING ? undefined : lastError;
  return new Error(`${description} not met within ${timeoutMs} ms; ${why}`, { cause });
}
