import '@shop/platform/otel';
import { createLogger, loadConfigOrExit, onShutdown } from '@shop/platform';
import { configShape } from './config';
import { start } from './server';

async function main() {
  const config = loadConfigOrExit('gateway', configShape);
  const logger = createLogger('gateway', config.LOG_LEVEL);
  const gateway = await start(config, { logger });
  onShutdown(logger, [{ name: 'http', close: gateway.close }], config.SHUTDOWN_TIMEOUT_MS);
}

main().catch((error: unknown) => {
  process.stderr.write(`gateway: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
