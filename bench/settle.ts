import { QUEUES } from '@shop/contracts';
import { connectBroker, queueDepths } from './broker';
import { step } from './progress';
import { sleep } from './stats';
import type { BenchSystem } from './system';

/**
 * Waits until Shop has caught up with its backlog — no unpublished outbox rows, no ready
 * messages in any service queue, three polls in a row — so the next measurement (a baseline
 * especially) does not share the CPU with the last one's leftovers.
 */
export async function settle(system: BenchSystem, timeoutMs: number): Promise<void> {
  const connection = await connectBroker(system.broker);
  const started = Date.now();
  let quiet = 0;
  try {
    while (quiet < 3) {
      const outboxes = await Promise.all(
        (['orders', 'products'] as const).map(async (db) =>
          Number(
            (await system.db[db].query('SELECT count(*) AS n FROM outbox_events WHERE published_at IS NULL'))
              .rows[0].n,
          ),
        ),
      );
      const depths = await queueDepths(
        connection,
        Object.values(QUEUES).map((queue) => queue.name),
      );
      const backlog = outboxes.reduce((a, b) => a + b, 0) + Object.values(depths).reduce((a, b) => a + b, 0);
      const last = JSON.stringify({ outboxes, depths });
      quiet = backlog === 0 ? quiet + 1 : 0;
      if (Date.now() - started > timeoutMs)
        throw new Error(`Shop did not catch up within ${timeoutMs} ms: ${last}`);
      await sleep(100);
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
  const waited = (Date.now() - started) / 1000;
  if (waited > 1) step(`  (waited ${waited.toFixed(1)} s for Shop to drain its backlog)`);
}
