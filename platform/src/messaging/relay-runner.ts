import { createLogger, type Logger } from '../logger';
import { createBrokerConnection } from './broker-connection';
import { createOutboxRelay, type OutboxRelayOptions } from './outbox-relay';
import { shutdownTracing } from '../observability/tracing';

export interface RelayRunnerOptions extends Omit<OutboxRelayOptions, 'pool' | 'connection' | 'logger'> {
  /** Names the logs and the broker connection, e.g. "order-service". */
  service: string;
  databaseUrl: string;
  amqpUrl: string;
  logger?: Logger;
  /** Install SIGTERM/SIGINT handlers that stop the relay and exit. Default true. */
  handleSignals?: boolean;
}

/**
 * Runs one service's outbox relay as a process of its own (e.g. `src/relay.ts` calling this), so
 * relays can be scaled apart from the HTTP process. On SIGTERM/SIGINT it finishes the batch in
 * flight, closes the broker connection and exits 0.
 */
export async function runOutboxRelay(options: RelayRunnerOptions): Promise<{ stop(): Promise<void> }> {
  const { service, databaseUrl, amqpUrl, handleSignals = true, ...tuning } = options;
  const logger = (options.logger ?? createLogger(`${service}-relay`)).child({ component: 'outbox-relay' });
  const connection = createBrokerConnection({
    url: amqpUrl,
    logger,
    name: `${service}-relay`,
    spread: true,
  });
  const relay = createOutboxRelay({ ...tuning, pool: databaseUrl, connection, logger });
  await relay.start();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await relay.stop();
      await connection.close();
    })());

  if (handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info('relay shutting down', { signal });
      stop().then(
        () => shutdownTracing().finally(() => process.exit(0)),
        (error: Error) => {
          logger.error('relay shutdown failed', { err: error.message });
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  return { stop };
}
