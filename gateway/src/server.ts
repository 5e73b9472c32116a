import { closeServer, createLogger, listen, noteOtelExport, portOf, type Logger } from '@shop/platform';
import { createApp } from './app';
import type { Config } from './config';
import { createMetricsApp } from './http/metrics-app';
import { rateLimitStores } from './rate-limit-store/rate-limit-stores';

export interface RunningGateway {
  port: number;
  /** The internal port serving GET /metrics (METRICS_PORT; 0 picks a free one). */
  metricsPort: number;
  close(): Promise<void>;
}

/** Starts the gateway and its internal metrics listener (port 0 picks a free one, as tests do). */
export async function start(config: Config, options: { logger?: Logger } = {}): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger('gateway', config.LOG_LEVEL);
  noteOtelExport(logger);
  const metricsServer = await listen(createMetricsApp(logger), config.METRICS_PORT, config.METRICS_HOST);
  const metricsPort = portOf(metricsServer);
  const rateLimits = rateLimitStores(config, logger);
  // Bounded (a refused connection settles it at once): the first requests count in Redis if it is there.
  await rateLimits.ready;
  const app = createApp(config, logger, rateLimits);
  const server = await listen(app, config.PORT).catch(async (error: unknown) => {
    await closeServer(metricsServer);
    app.closeProxies();
    rateLimits.close();
    throw error;
  });
  const port = portOf(server);
  logger.info('gateway listening', { port, metrics_port: metricsPort });
  return {
    port,
    metricsPort,
    close: async () => {
      await closeServer(server);
      app.closeProxies();
      rateLimits.close();
      await closeServer(metricsServer);
    },
  };
}
