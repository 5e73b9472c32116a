import '@shop/platform/otel';
import { createLogger, loadConfigOrExit, onShutdown } from '@shop/platform';
import { configShape } from './config';
import { start } from './server';

async function main(): Promise<void> {
  const config = loadConfigOrExit('order-service', configShape);
  const logger = createLogger('order-service', config.LOG_LEVEL);
  const service = await start(config, { logger });
  onShutdown(logger, [{ name: 'order-service', close: service.close }], config.SHUTDOWN_TIMEOUT_MS);
}

main().catch((error: Error) => {
  process.stderr.write(`order-service failed to start: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
