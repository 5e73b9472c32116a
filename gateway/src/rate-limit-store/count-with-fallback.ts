import { MemoryStore, type IncrementResponse, type Options, type Store } from 'express-rate-limit';
import { answerWithin } from './answer-within';
import type { RedisReachability } from './redis-reachability';

/**
 * One limiter's counts, kept in a shared store (Redis) so that every gateway instance adds to the
 * same count. When the shared store fails, or does not answer within `timeoutMs`, the request is
 * counted in this instance's memory instead (decision 31): the gateway never refuses or holds a
 * request because Redis is away, and a caller still meets a limit, at worst once per instance.
 * Once Redis is lost, counts go to memory at once, without asking Redis, until the connection's
 * probe (or a reconnection) finds it answering again: a hung Redis costs one request the timeout,
 * not every request, and leaves no command per request waiting on a connection that never answers.
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
    if (this.reachability.isLost) return this.#memory.increment(key);
    try {
      const counted = await answerWithin(this.timeoutMs, this.shared.increment(key));
      this.reachability.reached();
      return counted;
    } catch (error) {
      this.reachability.lost(error);
      return this.#memory.increment(key);
    }
  }

  async decrement(key: string): Promise<void> {
    await Promise.allSettled([
      this.reachability.isLost || this.shared.decrement(key),
      this.#memory.decrement(key),
    ]);
  }

  async resetKey(key: string): Promise<void> {
    await Promise.allSettled([
      this.reachability.isLost || this.shared.resetKey(key),
      this.#memory.resetKey(key),
    ]);
  }

  shutdown(): void {
    this.#memory.shutdown();
  }
}
