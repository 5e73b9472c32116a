import type { Request, RequestHandler, Response } from 'express';
import type { Health } from '@shop/contracts';
import { drainOf, type Drain } from './http/drain';

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
  return (req, res) => sendHealth(req, res, service, () => runHealthChecks(service, checks));
}

/**
 * Answers a health request with what `compute` finds — unless the server is draining (SIGTERM):
 * then 503 `down` at once, without waiting for the checks, even for a request already waiting on
 * them, so nothing routes new work to a process that is going away.
 */
export async function sendHealth(
  req: Request,
  res: Response,
  service: string,
  compute: () => Promise<Health>,
): Promise<void> {
  const health = await unlessDraining(drainOf(req), compute, () => shuttingDown(service));
  res.status(health.status === 'down' ? 503 : 200).json(health);
}

function shuttingDown(service: string): Health {
  return {
    status: 'down',
    service,
    checks: { shutdown: { status: 'down', detail: 'shutting down: finishing the requests in flight' } },
  };
}

function unlessDraining<T>(
  drain: Drain | undefined,
  compute: () => Promise<T>,
  draining: () => T,
): Promise<T> {
  if (!drain) return compute();
  const { signal } = drain;
  if (signal.aborted) return Promise.resolve(draining());
  return new Promise<T>((resolve, reject) => {
    const onDrain = () => resolve(draining());
    signal.addEventListener('abort', onDrain, { once: true });
    compute()
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onDrain));
  });
}

/** A database check for anything with a `SELECT 1`-style probe (a Kysely database, a pg pool). */
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
