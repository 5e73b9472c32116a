import { z } from 'zod';
import { baseConfigShape } from '@shop/platform';

export const configShape = {
  ...baseConfigShape,
  PORT: z.coerce.number().int().min(0).max(65_535).default(8004).describe('HTTP port of the notification service'),
  DATABASE_URL: z
    .url()
    .default('postgres://postgres@127.0.0.1:5432/shop_notifications')
    .describe('Postgres connection string of the notification database'),
  AMQP_URL: z.url().default('amqp://guest:guest@127.0.0.1:5672').describe('RabbitMQ connection string'),
  CONSUMER_PREFETCH: z.coerce.number().int().positive().default(20).describe('Unacked events the consumer works on at once'),
  CONSUMER_MAX_ATTEMPTS: z.coerce
    .number()
    .int()
    .positive()
    .default(5)
    .describe('Handler attempts per event before it is dead-lettered'),
};

export type Config = z.infer<z.ZodObject<typeof configShape>>;
