import type { Server } from 'node:http';
import type { z } from 'zod';
import { loadConfigOrExit } from './config';
import { drainServer } from './http/drain';
import { createLogger, type Logger } from './logger';
import { shutdownTracing } from './observability/tracing';

export type Closer = { name: string; close: () => Promise<unknown> | unknown };

/**
 * Closes a server gracefully and resolves once its last connection has closed: /health turns 503
 * at once, it stops accepting, idle keep-alive sockets close at once, requests in flight finish
 * and each socket closes after its response (`Connection: close`). Calling it again returns the
 * same drain.
 */
export function closeServer(server: Server): Promise<void> {
  return drainServer(server);
}

/**
 * On SIGTERM/SIGINT: run the closers in order (HTTP first, then consumers and relays, then
 * pools), flush buffered trace spans, and exit 0 — or exit 1 if they have not finished within the timeout, so an
 * orchestrator never waits on a stuck process.
 */
export function onShutdown(logger: Logger, closers: Closer[], timeoutMs = 10_000): () => Promise<void> {
  let shuttingDown: Promise<void> | undefined;
  const shutdown = () => {
    shuttingDown ??= (async () => {
      logger.info('shutting down', { steps: closers.map((closer) => closer.name) });
      const timer = setTimeout(() => {
        logger.error('shutdown timed out; exiting anyway', { timeout_ms: timeoutMs });
        process.exit(1);
      }, timeoutMs);
      timer.unref();
      for (const closer of closers) {
        try {
          await closer.close();
        } catch (error) {
          logger.warn('shutdown step failed', { step: closer.name, err: error });
        }
      }
      // Spans of the drain itself are exported too (a no-op when tracing is off).
      await shutdownTracing();
      clearTimeout(timer);
      logger.info('shut down cleanly');
    })();
    return shuttingDown;
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void shutdown().then(() => process.exit(0)));
  }
  return shutdown;
}

/**
 * A service's `main`: parse its config (a bad one exits 1 with one message), start it, and close
 * it gracefully on SIGTERM/SIGINT. A failure to start is printed with its stack and exits 1.
 */
export function runService<S extends z.ZodRawShape, C extends z.infer<z.ZodObject<S>> & { LOG_LEVEL: string; SHUTDOWN_TIMEOUT_MS: number }>(
  service: string,
  configShape: S,
  start: (config: C, options: { logger: Logger }) => Promise<{ close(): Promise<void> }>,
): void {
  (async () => {
    const config = loadConfigOrExit(service, configShape) as C;
    const logger = createLogger(service, config.LOG_LEVEL);
    const running = await start(config, { logger });
    onShutdown(logger, [{ name: service, close: () => running.close() }], config.SHUTDOWN_TIMEOUT_MS);
  })().catch((error: unknown) => {
    process.stderr.write(`${service} failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
