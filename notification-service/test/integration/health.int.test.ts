import { createLogger, parseConfig } from '@shop/platform';
import { configShape, start, type RunningService } from '../../src';
import { JWT_SECRET } from '../support/service';

describe('notification service: /health without its dependencies', () => {
  let service: RunningService;
  beforeAll(async () => {
    const logger = createLogger('notification-service-test');
    logger.silent = !process.env.LOG_LEVEL;
    const config = parseConfig(configShape, {
      PORT: '0',
      JWT_SECRET,
      // Nothing listens on port 1: neither Postgres nor RabbitMQ is reachable.
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/shop_notifications',
      AMQP_URL: 'amqp://guest:guest@127.0.0.1:1',
    });
    service = await start(config, { logger, brokerWaitMs: 100 });
  });
  afterAll(() => service.close());

  it('when neither the database nor the broker is reachable, the service still starts and /health answers 503', async () => {
    const response = await fetch(`http://127.0.0.1:${service.port}/health`);

    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      status: 'down',
      checks: { database: { status: 'down' }, broker: { status: 'down', detail: 'not connected' } },
    });
  });
});
