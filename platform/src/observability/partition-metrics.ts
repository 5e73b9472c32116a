import { Gauge } from 'prom-client';
import type { Partition } from '../partitions';
import type { Metrics } from './metrics';

/** Lists a service's partitions (platform's listPartitions on its pool), table by table. */
export type PartitionProbe = () => Promise<{ table: string; partitions: Partition[] }[]>;

const watched = new WeakMap<Metrics, Map<string, PartitionProbe>>();

/**
 * Exposes `db_partition_bytes{service, table, partition}` (table, indexes and TOAST of each
 * partition, read on scrape: one catalogue query per table) and `db_partitions_expired{service,
 * table}` (partitions past retention still there: retention could not drop them, see the runbook).
 * Several services in one process each add their own probe. Returns the function that stops watching.
 */
export function watchPartitions(metrics: Metrics, service: string, probe: PartitionProbe): () => void {
  let probes = watched.get(metrics);
  if (!probes) {
    const all = new Map<string, PartitionProbe>();
    probes = all;
    watched.set(metrics, all);
    let scrape: Promise<[string, Awaited<ReturnType<PartitionProbe>>][]> | undefined;
    // Both gauges are collected in the same scrape: they share one read.
    const read = () =>
      (scrape ??= Promise.all(
        [...all].map(
          async ([name, list]) =>
            [name, await list().catch(() => [])] as [string, Awaited<ReturnType<PartitionProbe>>],
        ),
      ).finally(() => {
        scrape = undefined;
      }));
    new Gauge({
      name: 'db_partition_bytes',
      help: 'Size of each partition of the outbox and the inbox log, indexes included',
      labelNames: ['service', 'table', 'partition'],
      registers: [metrics.registry],
      async collect() {
        this.reset();
        for (const [service, tables] of await read())
          for (const { table, partitions } of tables)
            for (const partition of partitions)
              this.set({ service, table, partition: partition.name }, partition.bytes);
      },
    });
    new Gauge({
      name: 'db_partitions_expired',
      help: 'Partitions past their retention that are still there (an outbox partition holding an unpublished row is kept)',
      labelNames: ['service', 'table'],
      registers: [metrics.registry],
      async collect() {
        this.reset();
        for (const [service, tables] of await read())
          for (const { table, partitions } of tables)
            this.set({ service, table }, partitions.filter((partition) => partition.expired).length);
      },
    });
  }
  probes.set(service, probe);
  const own = probes;
  return () => {
    if (own.get(service) === probe) own.delete(service);
  };
}
