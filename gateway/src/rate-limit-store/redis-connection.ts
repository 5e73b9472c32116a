import { createClient } from 'redis';
import type { Logger } from '@shop/platform';
import { answerWithin } from './answer-within';
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
const PROBE_EVERY_MS = 1_000;
/** As long as a count may wait (REDIS_COUNT_TIMEOUT_MS): a PING is answered in well under a millisecond. */
const PROBE_TIMEOUT_MS = 500;
/** Probes in a row without an answer after which the connection is dropped and a fresh one opened. */
const UNANSWERED_PROBES_BEFORE_RECONNECT = 3;

/**
 * One node-redis client for the gateway's rate limits, connecting in the background: start-up never
 * waits on Redis past its first attempt, and the client keeps reconnecting for as long as the gateway
 * runs. While it is not connected, a command fails at once (no offline queue), so a request is
 * counted in memory instead of waiting for Redis to come back.
 *
 * A Redis that keeps the connection open but stops answering (a paused process, a silent network)
 * never closes it, and each command sent on it waits for its reply in the client's queue for good
 * (node-redis's command timeout rejects the promise but keeps the entry, to keep replies in order).
 * So a probe PINGs every second: an answer marks Redis reached (counting in Redis resumes), no answer
 * marks it lost (counting in memory without asking Redis), and after a few probes in a row without an
 * answer the client is destroyed, which rejects every command still waiting on it, and a fresh one
 * connects. node-redis's own `pingInterval` only emits an error and keeps the connection; the probe
 * also covers a connection stuck in its handshake, which never becomes ready.
 */
export function connectRedis(url: string, logger: Logger): RedisConnection {
  const { hostname, port } = new URL(url);
  const reachability = new RedisReachability(logger, `${hostname}:${port || 6379}`);
  let client = openClient(url, reachability);

  const firstAttempt = new Promise<void>((resolve) => {
    client.once('ready', resolve);
    client.once('error', resolve);
    setTimeout(resolve, CONNECT_TIMEOUT_MS).unref();
  });

  let unansweredProbes = 0;
  let nextProbe: NodeJS.Timeout | undefined;
  const probe = async () => {
    try {
      await answerWithin(PROBE_TIMEOUT_MS, client.sendCommand(['PING']));
      unansweredProbes = 0;
      reachability.reached();
    } catch (error) {
      reachability.lost(error);
      if (++unansweredProbes >= UNANSWERED_PROBES_BEFORE_RECONNECT) {
        unansweredProbes = 0;
        client.destroy();
        client = openClient(url, reachability);
      }
    }
    if (nextProbe) nextProbe = setTimeout(probe, PROBE_EVERY_MS).unref();
  };
  nextProbe = setTimeout(probe, PROBE_EVERY_MS).unref();

  return {
    sendCommand: (...args) => client.sendCommand(args) as Promise<RedisReply>,
    reachability,
    firstAttempt,
    close: () => {
      clearTimeout(nextProbe);
      nextProbe = undefined;
      client.destroy();
    },
  };
}

function openClient(url: string, reachability: RedisReachability) {
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
  // Resolves when connected; rejects only once destroyed. Failures meanwhile are the 'error' events above.
  client.connect().catch(() => undefined);
  return client;
}
