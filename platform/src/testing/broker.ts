import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { brokerUrls } from '../messaging/broker-connection';
import { useContainers } from './docker';

const run = promisify(execFile);

export interface TestVhost {
  url: string;
  vhost: string;
  /** Closes every client connection to this vhost, as a broker restart would. */
  closeConnections(): Promise<void>;
  drop(): Promise<void>;
}

const LOCAL_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

/**
 * A RabbitMQ vhost of its own for one test file (a fresh broker in a container where Docker
 * answers), so exchanges and queues of parallel files never meet. Local vhosts are managed
 * with `rabbitmqctl`, which ships with the broker on this machine.
 */
export async function createTestVhost(): Promise<TestVhost> {
  const vhost = `shop_test_${randomBytes(6).toString('hex')}`;
  if (useContainers()) {
    const { RabbitMQContainer } = await import('@testcontainers/rabbitmq');
    const container = await new RabbitMQContainer('rabbitmq:3.13-management').start();
    const ctl = async (...args: string[]) => {
      await container.exec(['rabbitmqctl', ...args]);
    };
    await ctl('add_vhost', vhost);
    await ctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
    return {
      url: `${container.getAmqpUrl()}/${vhost}`,
      vhost,
      closeConnections: () => ctl('close_all_connections', '-p', vhost, 'test closed the connection'),
      drop: async () => {
        await container.stop();
      },
    };
  }
  const ctl = async (...args: string[]) => {
    await run('rabbitmqctl', ['-q', ...args]);
  };
  await ctl('add_vhost', vhost);
  await ctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
  // With a list of brokers (a cluster), the vhost is the cluster's: any node's URL reaches it.
  const url = new URL(brokerUrls(process.env.TEST_AMQP_URL ?? process.env.AMQP_URL ?? LOCAL_AMQP_URL)[0]!);
  url.pathname = `/${vhost}`;
  return {
    url: url.toString(),
    vhost,
    closeConnections: () => ctl('close_all_connections', '-p', vhost, 'test closed the connection'),
    drop: () => ctl('delete_vhost', vhost),
  };
}
