import { existsSync } from 'node:fs';

/**
 * Tests use testcontainers where a Docker engine answers, and the machine's own Postgres and
 * RabbitMQ otherwise (SHOP_TESTCONTAINERS=0 forces the local path, =1 forces containers).
 */
export function useContainers(): boolean {
  const forced = process.env.SHOP_TESTCONTAINERS;
  if (forced === '0' || forced === 'false') return false;
  if (forced === '1' || forced === 'true') return true;
  return Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock');
}
