import type { RequestHandler } from 'express';
import type { Health } from '@shop/contracts';

export type CheckResult = { status: 'up' | 'down' | 'degraded'; detail?: string };
export type HealthCheck = () => Promise<CheckResult>;

/**
 * Runs each named check (with a timeout, so a hung dependency cannot hang /health).
 * `critical` checks make the service `down` (503); the others only make it `degraded` (200):
 * an order service without RabbitMQ still takes orders, its events wait in the outbox.
 */
export async function runHealthChecks(
  service: string,
  checks: Record<string, { check: HealthCheck; critical: boolean }>,
  timeoutMs = 2_000,
): Promise<Health> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, { check, critical }]) => {
      const result = await withTimeout(check(), timeoutMs).catch(
        (error: Error): CheckResult => ({ status: 'down', detail: error.message }),
      );
      return { name, critical, result };
    }),
  );
  const failed = entries.filter((entry) => entry.result.status !== 'up');
  const status = failed.some((entry) => entry.critical && entry.result.status === 'down')
    ? 'down'
    : failed.length
      ? 'degraded'
      : 'ok';
  return { status, service, checks: Object.fromEntries(entries.map((entry) => [entry.name, entry.result])) };
}

export function healthHandler(
  service: string,
  checks: Record<string, { check: HealthCheck; critical: boolean }>,
): RequestHandler {
  return async (_req, res) => {
    const health = await runHealthChecks(service, checks);
    res.status(health.status === 'down' ? 503 : 200).json(health);
  };
}

/** A database check for anything with a `SELECT 1`-style probe (Prisma, pg). */
export const databaseCheck =
  (probe: () => Promise<unknown>): HealthCheck =>
  async () => {
    await probe();
    return { status: 'up' };
  };

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
