import '@shop/platform/otel';
import { loadConfigOrExit, runOutboxRelay } from '@shop/platform';
import { configShape } from './config';

/** The outbox relay as a process of its own (`npm run relay -w @shop/order-service`). */
const config = loadConfigOrExit('order-service-relay', configShape);
runOutboxRelay({
  service: 'order-service',
  databaseUrl: config.DATABASE_URL,
  amqpUrl: config.AMQP_URL,
}).catch((error: Error) => {
  process.stderr.write(`order-service relay failed to start: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
