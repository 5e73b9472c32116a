import '@shop/platform/otel';
import { createLogger, loadConfigOrExit, onShutdown } from '@shop/platform';
import { configShape } from './config';
import { start } from './server';

async function main() {
  const config = loadConfigOrExit('notification-service', configShape);
  const logger = createLogger('notification-service', config.LOG_LEVEL);
  const service = await start(config, { logger });
  onShutdown(logger, [{ name: 'notification-service', close: () => service.close() }], config.SHUTDOWN_TIMEOUT_MS);
}

main().catch((error: unknown) => {
  process.stderr.write(`notification-service failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
