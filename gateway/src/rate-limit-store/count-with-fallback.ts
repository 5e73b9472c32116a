import { MemoryStore, type IncrementResponse, type Options, type Store } from 'express-rate-limit';
import type { RedisReachability } from './redis-reachability';

/**
 * One limiter's counts, kept in a shared store (Redis) so that every gateway instance adds to the
 * same count. When the shared store fails, or does not answer within `timeoutMs`, the request is
 * counted in this instance's memory instead (decision 31): the gateway never refuses or holds a
 * request because Redis is away, and a caller still meets a limit, at worst once per instance.
 */
export class CountWithFallback implements Store {
  /** Keys are shared with other instances; `prefix` sets this limiter's apart from the others'. */
  readonly localKeys = false;
  readonly #memory = new MemoryStore();

  constructor(
    readonly prefix: string,
    private readonly shared: Store,
    private readonly reachability: RedisReachability,
    private readonly timeoutMs: number,
  ) {}

  async init(options: Options): Promise<void> {
    this.#memory.init(options);
    await this.shared.init?.(options);
  }

  async increment(key: string): Promise<IncrementResponse> {
    try {
      const counted = await within(this.timeoutMs, this.shared.increment(key));
      this.reachability.reached();
      return counted;
    } catch (error) {
      this.reachability.lost(error);
      return this.#memory.increment(key);
    }
  }

  async decrement(key: string): Promise<void> {
    await Promise.allSettled([this.shared.decrement(key), this.#memory.decrement(key)]);
  }

  async resetKey(key: string): Promise<void> {
    await Promise.allSettled([this.shared.resetKey(key), this.#memory.resetKey(key)]);
  }

  shutdown(): void {
    this.#memory.shutdown();
  }
}

async function within<T>(ms: number, work: Promise<T> | T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
