import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

/**
 * CPU seconds used so far, by what shares the box with Shop: every Postgres process (backends
 * that already exited included, through the postmaster's cutime/cstime), RabbitMQ (the Erlang VM,
 * beam.smp), this bench process (load generator and raw baselines), and the whole machine (busy
 * time of every core, from /proc/stat). Differences of two readings tell where a phase's CPU went.
 */
export interface MachineCpu {
  postgres: number;
  rabbitmq: number;
  bench: number;
  machine: number;
  at: number;
}

export function readMachineCpu(): MachineCpu {
  let postgres = 0;
  let rabbitmq = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (name !== 'postgres' && name !== 'beam.smp') continue;
    // Fields after the parenthesised name: utime 14, stime 15, cutime 16, cstime 17 (1-based).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    if (name === 'postgres') postgres += ticks;
    else rabbitmq += ticks;
  }
  // cpu  user nice system idle iowait irq softirq steal …
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const busy = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + (cpu[7] ?? 0);
  const own = process.cpuUsage();
  return {
    postgres: postgres / CLOCK_TICKS,
    rabbitmq: rabbitmq / CLOCK_TICKS,
    bench: (own.user + own.system) / 1e6,
    machine: busy / CLOCK_TICKS,
    at: performance.now(),
  };
}

/** What each part used between two readings, in cores (CPU seconds per wall second). */
export interface CoresUsed {
  postgres: number;
  rabbitmq: number;
  bench: number;
  /** Busy cores of the whole machine, everything above and every Shop process included. */
  machine: number;
  seconds: number;
}

export function coresUsed(before: MachineCpu, after: MachineCpu = readMachineCpu()): CoresUsed {
  const seconds = (after.at - before.at) / 1000;
  const per = (key: 'postgres' | 'rabbitmq' | 'bench' | 'machine') =>
    seconds > 0 ? (after[key] - before[key]) / seconds : 0;
  return {
    postgres: per('postgres'),
    rabbitmq: per('rabbitmq'),
    bench: per('bench'),
    machine: per('machine'),
    seconds,
  };
}
