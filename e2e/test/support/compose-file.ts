import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { z } from 'zod';
import { configShape as gatewayConfig } from '../../../gateway/src/config';
import { configShape as notificationConfig } from '../../../notification-service/src/config';
import { configShape as orderConfig } from '../../../order-service/src/config';
import { configShape as productConfig } from '../../../product-service/src/config';

/**
 * What the static checks of the compose files share (no Docker engine runs here): reading a file
 * as Compose does, and the config schema of each Shop service.
 */
export const ROOT = join(__dirname, '..', '..', '..');
export const readRepoFile = (file: string) => readFileSync(join(ROOT, file), 'utf8');

export interface ComposeService {
  image?: string;
  hostname?: string;
  command?: string[] | string;
  build?: { context: string; args?: Record<string, string> };
  init?: boolean;
  ports?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[] | string; timeout?: string };
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
}

/** A compose file's services, with `<<` merge keys resolved as Compose resolves them. */
export function composeServices(file: string): Record<string, ComposeService> {
  return (parse(readRepoFile(file), { merge: true }) as { services: Record<string, ComposeService> })
    .services;
}

/** Each Shop service's config schema, by its name (its compose service's in docker-compose.yml). */
export const APP_CONFIGS: Record<string, z.ZodRawShape> = {
  'product-service': productConfig,
  'order-service': orderConfig,
  'notification-service': notificationConfig,
  gateway: gatewayConfig,
};

/** Compose's `${NAME:-default}` interpolation, with an empty shell environment. */
export const interpolate = (value: string) => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');

/** A service's environment as its container gets it, with an empty shell environment. */
export const environmentOf = (service: ComposeService) =>
  Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([key, value]) => [key, interpolate(String(value))]),
  );
