import { closeServer, createLogger, listen, noteOtelExport, portOf, type Logger } from '@shop/platform';
import { createApp } from './app';
import type { Config } from './config';

export interface RunningGateway {
  port: number;
  close(): Promise<void>;
}

/** Starts the gateway (port 0 picks a free one, as tests do). */
export async function start(config: Config, options: { logger?: Logger } = {}): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger('gateway', config.LOG_LEVEL);
  noteOtelExport(logger);
  const app = createApp(config, logger);
  const server = await listen(app, config.PORT);
  const port = portOf(server);
  logger.info('gateway listening', { port });
  return {
    port,
    close: async () => {
      await closeServer(server);
      app.closeProxies();
    },
  };
}
