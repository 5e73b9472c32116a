import { readFileSync } from 'node:fs';
import type { Client } from 'pg';

/**
 * CPU time of the Postgres backends serving one database, from `/proc/<pid>/schedstat` (nanoseconds
 * on a CPU; `/proc/<pid>/stat` counts in 10 ms ticks, too coarse for one backend). Only the
 * backends of that database count: other people's test suites share this server, so the sum over
 * every Postgres process (bench/machine-cpu.ts) would bill their work to us. Background processes
 * (WAL writer, checkpointer) are left out for the same reason; they are not per-statement work.
 */
export type BackendCpu = Map<number, number>;

export async function readBackendCpu(admin: Client, database: string): Promise<BackendCpu> {
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [
    database,
  ]);
  const cpu: BackendCpu = new Map();
  for (const { pid } of rows) {
    try {
      cpu.set(pid, Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]));
    } catch {
      // exited between the two reads
    }
  }
  return cpu;
}

/**
 * Seconds of CPU the backends used between two readings. A backend that started in between
 * counts whole (it did not exist before). One that exited in between is lost — the pools here
 * keep their connections open for the whole run, so none does.
 */
export function backendSecondsBetween(before: BackendCpu, after: BackendCpu): number {
  let nanoseconds = 0;
  for (const [pid, used] of after) nanoseconds += used - (before.get(pid) ?? 0);
  return nanoseconds / 1e9;
}
