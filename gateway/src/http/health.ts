import type { RequestHandler } from 'express';
import type { CheckResult } from '@shop/platform';
import type { Health } from '@shop/contracts';

/**
 * The gateway is healthy when every service behind it answers its own /health with 200
 * (`ok`, or `degraded` — still serving). All are asked at once with a short timeout, so one hung
 * service costs /health at most `timeoutMs`. Any service down or unreachable → 503, with each
 * service's status in `checks`.
 */
export function aggregateHealth(upstreams: Record<string, string>, timeoutMs: number): RequestHandler {
  return async (_req, res) => {
    const entries = await Promise.all(
      Object.entries(upstreams).map(async ([name, baseUrl]) => [name, await probe(baseUrl, timeoutMs)] as const),
    );
    const checks = Object.fromEntries(entries);
    const results = Object.values(checks);
    const status: Health['status'] = results.some((check) => check.status === 'down')
      ? 'down'
      : results.some((check) => check.status === 'degraded')
        ? 'degraded'
        : 'ok';
    const health: Health = { status, service: 'gateway', checks };
    res.status(status === 'down' ? 503 : 200).json(health);
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
