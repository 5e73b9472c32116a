import type { RequestHandler } from 'express';
import { sendHealth, type CheckResult, type HealthCheck } from '@shop/platform';
import type { Health } from '@shop/contracts';
import type { InstanceHealth, ServiceInstances } from '../proxy/instances';

/**
 * The gateway is healthy when every service behind it has an instance that answers its own /health
 * with 200 (`ok`, or `degraded` — still serving). Every instance is asked at once with a short
 * timeout (instances.ts), so one hung instance costs /health at most that timeout, and what each
 * answers also takes it in or out of the proxy's rotation. A service with no instance up → 503;
 * one with some but not all of its instances up is `degraded` (200), and its line in `checks` says
 * how many of how many are up. The gateway's own `checks` (the rate limits' Redis) join them there;
 * they answer `degraded` at worst, as the gateway still serves without them.
 *
 * Each call would cost one request to every service, so the answer is shared: calls while a round
 * is in flight wait for it, and its result is reused for `cacheMs` after it arrives. A flood of
 * /health thus asks the services at most once per interval (0 asks on every call).
 */
export function aggregateHealth(
  services: Record<string, ServiceInstances>,
  cacheMs = 0,
  checks: Record<string, HealthCheck> = {},
): RequestHandler {
  const check = shared(() => checkAll(services, checks), cacheMs);
  // Draining on SIGTERM, it answers 503 at once instead (sendHealth), as every service does.
  return (req, res) => sendHealth(req, res, 'gateway', check);
}

async function checkAll(
  services: Record<string, ServiceInstances>,
  own: Record<string, HealthCheck>,
): Promise<Health> {
  const entries = await Promise.all([
    ...Object.entries(services).map(
      async ([name, instances]) => [name, serviceCheck(await instances.probe())] as const,
    ),
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

/**
 * One service's line in `checks`. A single instance's is its own answer, as it always was; with
 * several, the service is up while every instance is, degraded while at least one is, down when none
 * is, and the detail counts them and names each one that is not up and why.
 */
function serviceCheck(instances: InstanceHealth[]): CheckResult {
  if (instances.length === 1) return instances[0].result;
  const up = instances.filter(({ result }) => result.status !== 'down').length;
  const notUp = instances
    .filter(({ result }) => result.status !== 'up')
    .map(({ url, result }) => `${url} ${result.status}: ${result.detail}`);
  const status = up === 0 ? 'down' : notUp.length > 0 ? 'degraded' : 'up';
  return { status, detail: [`${up} of ${instances.length} instances up`, ...notUp].join('; ') };
}
