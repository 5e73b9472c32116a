import type { Pool } from 'pg';
import { sleep } from './stats';

/** Polls `probe` until `done` holds, or throws after `timeoutMs` with the last value seen. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`${what}: not reached within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    await sleep(everyMs);
  }
}

/**
 * Waits until no backend of the connected database matches `where` (a pg_stat_activity condition on
 * `params`): a backend hands its block counts to pg_stat_database when it ends, so figures read
 * before then would miss them.
 */
export async function untilBackendsEnded(
  db: Pick<Pool, 'query'>,
  what: string,
  where: string,
  params: unknown[],
  timeoutMs: number,
): Promise<void> {
  await waitUntil(
    what,
    async () =>
      Number(
        (
          await db.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND ${where}`,
            params,
          )
        ).rows[0].n,
      ),
    (left) => left === 0,
    timeoutMs,
    20,
  );
}
