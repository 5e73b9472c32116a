import type { Registry } from 'prom-client';
import type { Metrics } from './metrics';

/** What a service's probe read for one scrape, by service name. */
export type ReadPerService<T> = () => Promise<Map<string, T>>;

/**
 * Gauges computed on scrape from one probe per service: `define` registers the gauges once per
 * metrics registry, and their `collect`s share one read of every probe per scrape (they are
 * collected in the same tick). Several services in one process (the e2e suite) each add their own
 * probe; a probe that fails leaves its service out of that scrape instead of failing /metrics.
 * Returns `watch(metrics, service, probe)`, which returns the function that stops watching.
 */
export function scrapedPerService<T>(
  define: (read: ReadPerService<T>, registers: Registry[]) => void,
): (metrics: Metrics, service: string, probe: () => Promise<T>) => () => void {
  const watched = new WeakMap<Metrics, Map<string, () => Promise<T>>>();
  return (metrics, service, probe) => {
    let probes = watched.get(metrics);
    if (!probes) {
      const all = new Map<string, () => Promise<T>>();
      probes = all;
      watched.set(metrics, all);
      let scrape: Promise<Map<string, T>> | undefined;
      const read = () =>
        (scrape ??= readAll(all).finally(() => {
          scrape = undefined;
        }));
      define(read, [metrics.registry]);
    }
    probes.set(service, probe);
    const own = probes;
    return () => {
      if (own.get(service) === probe) own.delete(service);
    };
  };
}

async function readAll<T>(probes: Map<string, () => Promise<T>>): Promise<Map<string, T>> {
  const entries = await Promise.all(
    [...probes].map(async ([name, probe]) => [name, await probe().catch(() => undefined)] as const),
  );
  return new Map(entries.filter((entry): entry is readonly [string, Awaited<T>] => entry[1] !== undefined));
}
