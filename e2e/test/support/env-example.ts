import type { z } from 'zod';
import { parseConfig } from '@shop/platform';
import * as gateway from '@shop/gateway';
import * as notifications from '@shop/notification-service';
import * as orders from '@shop/order-service';
import * as products from '@shop/product-service';

const SERVICES: [string, z.ZodRawShape][] = [
  ['product-service', products.configShape],
  ['order-service', orders.configShape],
  ['notification-service', notifications.configShape],
  ['gateway', gateway.configShape],
];

/**
 * .env.example as the config schemas define it: the keys every service shares first, then each
 * service's own, each with its description and its default.
 */
export function renderEnvExample(): string {
  const described = SERVICES.map(([name, shape]) => ({ name, shape, defaults: parseConfig(shape, {}) as Record<string, unknown> }));
  const everywhere = Object.keys(described[0].shape).filter((key) =>
    described.every(({ shape, defaults }) => key in shape && defaults[key] === described[0].defaults[key]),
  );
  const block = (shape: z.ZodRawShape, defaults: Record<string, unknown>, keys: string[], prefix = '') =>
    keys.map((key) => `# ${(shape[key] as z.ZodType).description ?? key}\n${prefix}${key}=${defaults[key] ?? ''}`).join('\n');
  const lines = [
    '# Generated from the services\' config schemas by `npm run env:example`; every key has a default that',
    '# works on a developer machine, so set only what differs. With `npm start` (one environment for all',
    '# services) PORT and DATABASE_URL take a prefix: PRODUCT_DATABASE_URL, ORDER_PORT, NOTIFICATION_DATABASE_URL, …',
    '# Per-service keys are commented out below: each service reads them from its own environment.',
    '',
    '## every service',
    block(described[0].shape, described[0].defaults, everywhere),
  ];
  for (const { name, shape, defaults } of described) {
    const own = Object.keys(shape).filter((key) => !everywhere.includes(key));
    lines.push('', `## ${name}`, block(shape, defaults, own, '#'));
  }
  return `${lines.join('\n')}\n`;
}
