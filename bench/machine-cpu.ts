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
  for (const found of readProcessCpu(['postgres', 'beam.smp'])) {
    const seconds = found.seconds + found.childrenSeconds;
    if (found.name === 'postgres') postgres += seconds;
    else rabbitmq += seconds;
  }
  // cpu  user nice system idle iowait irq softirq steal …
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const busy = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + (cpu[7] ?? 0);
  const own = process.cpuUsage();
  return {
    postgres,
    rabbitmq,
    bench: (own.user + own.system) / 1e6,
    machine: busy / CLOCK_TICKS,
    at: performance.now(),
  };
}

export interface ProcessCpu {
  pid: string;
  name: string;
  /** CPU seconds the process used itself (utime + stime). */
  seconds: number;
  /** CPU seconds its children that exited used (cutime + cstime): a postmaster's ended backends. */
  childrenSeconds: number;
}

/** Every running process whose name (as in /proc/<pid>/stat) is one of `names`, with its CPU so far. */
export function readProcessCpu(names: readonly string[]): ProcessCpu[] {
  const found: ProcessCpu[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (!names.includes(name)) continue;
    // Fields after the parenthesised name: utime 14, stime 15, cutime 16, cstime 17 (1-based).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    found.push({
      pid,
      name,
      seconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS,
      childrenSeconds: (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS,
    });
  }
  return found;
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
