/** How big each phase is: `--quick` is the CI smoke run (≈1 min, correctness only), the default is the full run. */
export interface BenchSettings {
  mode: 'quick' | 'full';
  /** Phase 1: seconds per concurrency level, for Shop and for the baseline alike. */
  placementSeconds: number;
  placementWarmupSeconds: number;
  concurrencies: number[];
  /** Phase 2: steady rate (orders/s) for this many seconds. */
  latencyRate: number;
  latencySeconds: number;
  /** Phase 3: outbox rows pre-filled per relay run. */
  drainEvents: number;
  /** Phase 4: OrderCreated messages pre-loaded into product-service.orders. */
  consumerEvents: number;
  /** How long to wait for the system to catch up before a correctness check fails. */
  settleTimeoutMs: number;
}

export function settingsFor(quick: boolean): BenchSettings {
  return quick
    ? {
        mode: 'quick',
        placementSeconds: 2,
        placementWarmupSeconds: 1,
        concurrencies: [1, 8, 32],
        latencyRate: 50,
        latencySeconds: 3,
        drainEvents: 2_000,
        consumerEvents: 500,
        settleTimeoutMs: 60_000,
      }
    : {
        mode: 'full',
        placementSeconds: 10,
        placementWarmupSeconds: 3,
        concurrencies: [1, 8, 32],
        latencyRate: 100,
        latencySeconds: 20,
        drainEvents: 50_000,
        consumerEvents: 10_000,
        settleTimeoutMs: 180_000,
      };
}
