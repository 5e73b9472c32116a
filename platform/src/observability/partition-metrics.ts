import { Gauge } from 'prom-client';
import type { Partition } from '../partitions';
import type { Metrics } from './metrics';
import { scrapedPerService } from './scraped-gauges';

/** Lists a service's partitions (platform's listPartitions on its pool), table by table. */
export type PartitionProbe = () => Promise<{ table: string; partitions: Partition[] }[]>;

/**
 * Exposes `db_partition_bytes{service, table, partition}` (table, indexes and TOAST of each
 * partition, read on scrape: one catalogue query per table) and `db_partitions_expired{service,
 * table}` (partitions past retention still there: retention could not drop them, see the runbook).
 * Several services in one process each add their own probe. Returns the function that stops watching.
 */
export const watchPartitions: (metrics: Metrics, service: string, probe: PartitionProbe) => () => void =
  scrapedPerService<Awaited<ReturnType<PartitionProbe>>>((read, registers) => {
    new Gauge({
      name: 'db_partition_bytes',
      help: 'Size of each partition of the outbox and the inbox log, indexes included',
      labelNames: ['service', 'table', 'partition'],
      registers,
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
      registers,
      async collect() {
        this.reset();
        for (const [service, tables] of await read())
          for (const { table, partitions } of tables)
            this.set({ service, table }, partitions.filter((partition) => partition.expired).length);
      },
    });
  });
