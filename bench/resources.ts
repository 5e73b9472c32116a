import { readFileSync } from 'node:fs';

const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

export interface ResourceUse {
  /** RSS once the process answered /health (before any load): what it costs to exist. */
  readyRssMb: number;
  peakRssMb: number;
  cpuSeconds: number;
  processes: number;
}

/**
 * Samples every tracked process's resident memory (/proc/<pid>/status VmRSS) and CPU time
 * (/proc/<pid>/stat utime + stime) a few times a second. Results are per role ("order-service",
 * "order-relay", …): the peak RSS of any of its processes and the CPU seconds of all of them.
 */
export function createResourceSampler(intervalMs = 200) {
  const live = new Map<number, string>();
  const cpuTicksByPid = new Map<number, { role: string; ticks: number }>();
  const peakRssKb = new Map<string, number>();
  const readyRssKb = new Map<string, number>();
  const rssKbOf = (pid: number) =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

  function sample(pid: number, role: string): void {
    try {
      const rss = rssKbOf(pid);
      peakRssKb.set(role, Math.max(peakRssKb.get(role) ?? 0, rss));
      // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpuTicksByPid.set(pid, { role, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      live.delete(pid); // exited between samples
    }
  }

  const timer = setInterval(() => live.forEach((role, pid) => sample(pid, role)), intervalMs);
  timer.unref();

  return {
    track(pid: number, role: string): void {
      live.set(pid, role);
      sample(pid, role);
    },
    /** Records the process's RSS now, as its role's ready RSS (the first process of a role wins). */
    ready(pid: number, role: string): void {
      try {
        if (!readyRssKb.has(role)) readyRssKb.set(role, rssKbOf(pid));
      } catch {
        // exited already; waitHealthy reports that
      }
    },
    /** Takes a last sample before the process is asked to stop. */
    untrack(pid: number): void {
      const role = live.get(pid);
      if (role) sample(pid, role);
      live.delete(pid);
    },
    /** CPU seconds so far per role (a fresh sample of every live process first). */
    cpuSnapshot(): Record<string, number> {
      live.forEach((role, pid) => sample(pid, role));
      const totals: Record<string, number> = {};
      for (const { role, ticks } of cpuTicksByPid.values())
        totals[role] = (totals[role] ?? 0) + ticks / CLOCK_TICKS;
      return totals;
    },
    report(): Record<string, ResourceUse> {
      const roles = new Set([...peakRssKb.keys()]);
      return Object.fromEntries(
        [...roles].sort().map((role) => {
          const mine = [...cpuTicksByPid.values()].filter((entry) => entry.role === role);
          return [
            role,
            {
              readyRssMb: (readyRssKb.get(role) ?? 0) / 1024,
              peakRssMb: (peakRssKb.get(role) ?? 0) / 1024,
              cpuSeconds: mine.reduce((sum, entry) => sum + entry.ticks, 0) / CLOCK_TICKS,
              processes: mine.length,
            },
          ];
        }),
      );
    },
    stop: () => clearInterval(timer),
  };
}

export type ResourceSampler = ReturnType<typeof createResourceSampler>;
