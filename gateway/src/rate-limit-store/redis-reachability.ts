import type { HealthCheck, Logger } from '@shop/platform';

/**
 * Whether the rate limits are shared right now, i.e. whether Redis answers. Each change is logged
 * once, never per request: a warning when Redis is lost (with why), info when it is reached. While it
 * is not reached, /health reports the rate limits as `degraded` (still serving, limits per instance).
 */
export class RedisReachability {
  #state: 'connecting' | 'reached' | 'lost' = 'connecting';
  #why = 'not connected yet';

  constructor(
    private readonly logger: Logger,
    /** host:port, never the URL: it may carry a password. */
    private readonly address: string,
  ) {}

  /** While lost, counts are kept in memory without asking Redis; the connection's probe ends it. */
  get isLost(): boolean {
    return this.#state === 'lost';
  }

  reached(): void {
    if (this.#state === 'reached') return;
    const wasLost = this.#state === 'lost';
    this.#state = 'reached';
    this.logger.info(
      wasLost
        ? 'rate limits: Redis is reachable again; limits are shared across gateway instances again'
        : 'rate limits: kept in Redis, shared across gateway instances',
      { redis: this.address },
    );
  }

  /** The first reason of an outage is kept: later ones are mostly its echo ("the client is offline"). */
  lost(error: unknown): void {
    if (this.#state === 'lost') return;
    this.#state = 'lost';
    this.#why = reasonOf(error);
    this.logger.warn(
      'rate limits: Redis is unreachable; serving anyway, each gateway instance counting its own limits in memory (not shared) until Redis returns',
      { redis: this.address, err: this.#why },
    );
  }

  readonly check: HealthCheck = async () =>
    this.#state === 'reached'
      ? { status: 'up' }
      : {
          status: 'degraded',
          detail: `Redis at ${this.address} unreachable (${this.#why}): each instance counts its own limits in memory`,
        };
}

/** A connection refusal arrives as an AggregateError with no message but a code. */
function reasonOf(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  return code ?? (message || String(error));
}
