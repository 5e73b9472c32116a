import type { CheckResult, Logger } from '@shop/platform';

/** How long an instance that could not be connected to or failed its /health gets no requests (unless a probe finds it healthy sooner). */
const COOL_DOWN_MS = 5_000;
/** How often each instance of a service that has several is asked for its /health in the background. */
const PROBE_INTERVAL_MS = 2_000;
const NONE: ReadonlySet<string> = new Set();

export interface InstanceHealth {
  url: string;
  result: CheckResult;
}

export interface ServiceInstances {
  readonly urls: readonly string[];
  /**
   * The instance for the next request: round-robin over the healthy ones not in `tried`. When none
   * of those is known healthy, one of the others anyway (a request that might work beats a sure 503);
   * undefined once every instance has been tried.
   */
  pick(tried?: ReadonlySet<string>): string | undefined;
  /** No connection to `url` could be opened (`reason`: refused, not found, timed out…): it gets no requests until its cool-down ends or a probe finds it healthy. */
  unreachable(url: string, reason: string): void;
  /** Asks every instance's /health at once, takes each in or out by its answer, and says what each answered. */
  probe(): Promise<InstanceHealth[]>;
  close(): void;
}

/**
 * The instances of one service behind the gateway and what the gateway knows of their health
 * (SPEC §9). An instance is out for a cool-down after a connection to it failed or its /health did
 * not answer 200; it is back when the cool-down ends or a /health probe answers 200 (`ok` or
 * `degraded`: still serving). A service with several instances has them probed every
 * `probeIntervalMs`, so one that is failing or draining stops getting requests before a client
 * notices; a single instance is never probed in the background, since there is nothing to choose.
 */
export function serviceInstances(options: {
  service: string;
  urls: readonly string[];
  probeTimeoutMs: number;
  logger: Logger;
  coolDownMs?: number;
  probeIntervalMs?: number;
}): ServiceInstances {
  const {
    service,
    urls,
    probeTimeoutMs,
    logger,
    coolDownMs = COOL_DOWN_MS,
    probeIntervalMs = PROBE_INTERVAL_MS,
  } = options;
  const outUntil = new Map(urls.map((url) => [url, 0]));
  const isIn = (url: string) => (outUntil.get(url) ?? 0) <= performance.now();
  let cursor = 0;

  const takeOut = (url: string, reason: string) => {
    if (isIn(url))
      logger.warn('service instance out', { service, instance: url, reason, cool_down_ms: coolDownMs });
    outUntil.set(url, performance.now() + coolDownMs);
  };
  const takeIn = (url: string) => {
    if (!isIn(url)) logger.info('service instance back', { service, instance: url });
    outUntil.set(url, 0);
  };

  const probe = () =>
    Promise.all(
      urls.map(async (url) => {
        const result = await probeHealth(url, probeTimeoutMs);
        if (result.status === 'down') takeOut(url, `health: ${result.detail}`);
        else takeIn(url);
        return { url, result };
      }),
    );

  let probing: Promise<unknown> | undefined;
  const timer =
    urls.length > 1
      ? setInterval(() => {
          probing ??= probe().finally(() => (probing = undefined));
        }, probeIntervalMs).unref()
      : undefined;

  return {
    urls,
    pick(tried = NONE) {
      const untried = urls.filter((url) => !tried.has(url));
      const healthy = untried.filter(isIn);
      const choices = healthy.length > 0 ? healthy : untried;
      return choices.length > 0 ? choices[cursor++ % choices.length] : undefined;
    },
    unreachable: (url, reason) => takeOut(url, `no connection: ${reason}`),
    probe,
    close: () => clearInterval(timer),
  };
}

/** One instance's GET /health: up on 200 (degraded when it says so), down on anything else or no answer in time. */
async function probeHealth(baseUrl: string, timeoutMs: number): Promise<CheckResult> {
  try {
    const response = await fetch(new URL('/health', baseUrl), { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await response.json().catch(() => undefined)) as { status?: string } | undefined;
    if (response.status !== 200) return { status: 'down', detail: `answered ${response.status}` };
    return body?.status === 'degraded'
      ? { status: 'degraded', detail: 'service reports degraded' }
      : { status: 'up' };
  } catch (error) {
    const name = (error as Error).name;
    const detail =
      name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${timeoutMs} ms` : 'unreachable';
    return { status: 'down', detail };
  }
}
