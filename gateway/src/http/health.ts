import type { RequestHandler } from 'express';
import { sendHealth, type CheckResult, type HealthCheck } from '@shop/platform';
import type { Health } from '@shop/contracts';

/**
 * The gateway is healthy when every service behind it answers its own /health with 200
 * (`ok`, or `degraded` — still serving). All are asked at once with a short timeout, so one hung
 * service costs /health at most `timeoutMs`. Any service down or unreachable → 503, with each
 * service's status in `checks`. The gateway's own `checks` (the rate limits' Redis) join them there;
 * they answer `degraded` at worst, as the gateway still serves without them.
 *
 * Each call would cost one request to every service, so the answer is shared: calls while a round
 * is in flight wait for it, and its result is reused for `cacheMs` after it arrives. A flood of
 * /health thus asks the services at most once per interval (0 asks on every call).
 */
export function aggregateHealth(
  upstreams: Record<string, string>,
  timeoutMs: number,
  cacheMs = 0,
  checks: Record<string, HealthCheck> = {},
): RequestHandler {
  const check = shared(() => checkAll(upstreams, timeoutMs, checks), cacheMs);
  // Draining on SIGTERM, it answers 503 at once instead (sendHealth), as every service does.
  return (req, res) => sendHealth(req, res, 'gateway', check);
}

async function checkAll(
  upstreams: Record<string, string>,
  timeoutMs: number,
  own: Record<string, HealthCheck>,
): Promise<Health> {
  const entries = await Promise.all([
    ...Object.entries(upstreams).map(async ([name, baseUrl]) => [name, await probe(baseUrl, timeoutMs)] as const),
    ...Object.entries(own).map(async ([name, check]) => [name, await check()] as const),
  ]);
  const checks = Object.fromEntries(entries);
  const results = Object.values(checks);
  const status: Health['status'] = results.some((check) => check.status === 'down')
    ? 'down'
    : results.some((check) => check.status === 'degraded')
      ? 'degraded'
      : 'ok';
  return { status, service: 'gateway', checks };
}

/** `compute` at most once per `ttlMs` (timed from when its answer arrived); callers meanwhile share it. */
function shared<T>(compute: () => Promise<T>, ttlMs: number): () => Promise<T> {
  let current: { answer: Promise<T>; settledAt?: number } | undefined;
  return () => {
    const fresh = current && (current.settledAt === undefined || performance.now() - current.settledAt < ttlMs);
    if (current && fresh) return current.answer;
    const entry: { answer: Promise<T>; settledAt?: number } = { answer: compute() };
    entry.answer.finally(() => (entry.settledAt = performance.now())).catch(() => undefined);
    current = entry;
    return entry.answer;
  };
}

async function probe(baseUrl: string, timeoutMs: number): Promise<CheckResult> {
  try {
    const response = await fetch(new URL('/health', baseUrl), { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await response.json().catch(() => undefined)) as { status?: string } | undefined;
    if (response.status !== 200) return { status: 'down', detail: `answered ${response.status}` };
    return body?.status === 'degraded' ? { status: 'degraded', detail: 'service reports degraded' } : { status: 'up' };
  } catch (error) {
    const name = (error as Error).name;
    const detail = name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${timeoutMs} ms` : 'unreachable';
    return { status: 'down', detail };
  }
}
