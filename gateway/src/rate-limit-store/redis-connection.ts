import { createClient } from 'redis';
import type { Logger } from '@shop/platform';
import { RedisReachability } from './redis-reachability';

/** A Redis answer as rate-limit-redis takes it. */
export type RedisReply = boolean | number | string | Array<boolean | number | string>;

export interface RedisConnection {
  sendCommand(...args: string[]): Promise<RedisReply>;
  reachability: RedisReachability;
  /** Settles once the first attempt to connect has (connected or failed), within CONNECT_TIMEOUT_MS. */
  firstAttempt: Promise<void>;
  close(): void;
}

const CONNECT_TIMEOUT_MS = 2_000;
const MAX_RECONNECT_DELAY_MS = 1_000;

/**
 * One node-redis client for the gateway's rate limits, connecting in the background: start-up never
 * waits on Redis past its first attempt, and the client keeps reconnecting for as long as the gateway
 * runs. While it is not connected, a command fails at once (no offline queue), so a request is
 * counted in memory instead of waiting for Redis to come back.
 */
export function connectRedis(url: string, logger: Logger): RedisConnection {
  const { hostname, port } = new URL(url);
  const reachability = new RedisReachability(logger, `${hostname}:${port || 6379}`);
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Never gives up (node-redis's default stops after a socket timeout); retries soon, so limits are shared again soon.
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS),
    },
  });
  client.on('ready', () => reachability.reached());
  // node-redis emits 'error' on every failed (re)connection; with no listener it would end the process.
  client.on('error', (error: unknown) => reachability.lost(error));

  const firstAttempt = new Promise<void>((resolve) => {
    client.once('ready', resolve);
    client.once('error', resolve);
    setTimeout(resolve, CONNECT_TIMEOUT_MS).unref();
  });
  // Resolves when connected; rejects only once closed. Failures meanwhile are the 'error' events above.
  client.connect().catch(() => undefined);

  return {
    sendCommand: (...args) => client.sendCommand(args) as Promise<RedisReply>,
    reachability,
    firstAttempt,
    close: () => client.destroy(),
  };
}
