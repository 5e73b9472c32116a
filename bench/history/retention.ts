import { dropExpiredPartitions, listPartitions } from '@shop/platform';
import { Pool } from 'pg';
import { CorrectnessError } from '../correctness';
import { databaseUrl, DATABASES } from '../infra';
import { step } from '../progress';
import { sleep } from '../stats';
import type { BenchSystem } from '../system';
import { HISTORY_TABLES, label, liveDeadTuples } from './tables';

export interface RetentionRun {
  table: string;
  /** The retention passed to dropExpiredPartitions: the oldest day is past it, the next is not. */
  retentionSeconds: number;
  dropped: string[];
  kept: { name: string; reason: string }[];
  /** Wall time of the dropExpiredPartitions call (list, detach concurrently, drop). */
  seconds: number;
  /** n_dead_tup of the live partitions (today's and ahead) before and after. */
  liveDeadTuples: { before: number; after: number };
}

/**
 * For each filled table: dropExpiredPartitions with a retention that makes exactly its oldest
 * partition expire (ending half a day before the next one ends), timed, with the dead tuples of
 * the live partitions read before and after. Each call gets a connection of its own, closed after
 * it, so the statistics of that backend are flushed before they are read. Exactly the oldest
 * partition must go: anything else fails the run.
 */
export async function timeRetention(system: BenchSystem): Promise<RetentionRun[]> {
  const runs: RetentionRun[] = [];
  for (const target of HISTORY_TABLES) {
    const pool = system.db[target.database];
    const partitions = await listPartitions(pool, target.table);
    const [oldest, next] = partitions;
    if (!oldest || !next) throw new CorrectnessError(`${label(target)} has no past partitions to drop`);
    // The cutoff (now − retention) half-way through the second-oldest partition's day.
    const cutoff = (oldest.to.getTime() + next.to.getTime()) / 2;
    const retentionSeconds = Math.floor((Date.now() - cutoff) / 1000);
    const before = await liveDeadTuples(pool, target.table);
    const own = new Pool({ connectionString: databaseUrl(target.database), max: 1 });
    const started = performance.now();
    let result;
    try {
      result = await dropExpiredPartitions(own, target.table, retentionSeconds);
    } finally {
      await own.end();
    }
    const seconds = (performance.now() - started) / 1000;
    await sleep(1_000); // a closed backend's statistics reach pg_stat_user_tables as it exits
    const after = await liveDeadTuples(pool, target.table);
    runs.push({
      table: label(target),
      retentionSeconds,
      dropped: result.dropped,
      kept: result.kept,
      seconds,
      liveDeadTuples: { before, after },
    });
    step(
      `  ${label(target)}: dropped ${result.dropped.join(', ') || 'nothing'} in ${(seconds * 1000).toFixed(0)} ms; ` +
        `dead tuples in the live partitions ${before} → ${after}`,
    );
    if (result.dropped.length !== 1 || result.dropped[0] !== oldest.name || result.kept.length > 0)
      throw new CorrectnessError(
        `retention on ${DATABASES[target.database].name}.${target.table} should have dropped exactly ${oldest.name}; ` +
          `dropped [${result.dropped.join(', ')}], kept ${JSON.stringify(result.kept)}`,
      );
  }
  return runs;
}
