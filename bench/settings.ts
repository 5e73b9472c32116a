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
  /**
   * Phase 5: rows of history put into the order service's outbox and the product and notification
   * services' inboxes before phases 1, 3 and 4 run again (`--history-rows=N` overrides it).
   */
  historyRows: number;
  /** How long to wait for the system to catch up before a correctness check fails. */
  settleTimeoutMs: number;
}

export function settingsFor(quick: boolean, overrides: Partial<BenchSettings> = {}): BenchSettings {
  const settings: BenchSettings = quick
    ? {
        mode: 'quick',
        placementSeconds: 2,
        placementWarmupSeconds: 1,
        concurrencies: [1, 8, 32],
        latencyRate: 50,
        latencySeconds: 3,
        drainEvents: 2_000,
        consumerEvents: 500,
        historyRows: 20_000,
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
        historyRows: 10_000_000,
        settleTimeoutMs: 180_000,
      };
  return { ...settings, ...overrides };
}
