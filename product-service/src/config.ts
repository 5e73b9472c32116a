import { z } from 'zod';
import { baseConfigShape, outboxConfigShape } from '@shop/platform';

export const configShape = {
  ...baseConfigShape,
  PORT: z.coerce.number().int().min(0).max(65_535).default(8001).describe('HTTP port of the product service'),
  DATABASE_URL: z
    .string()
    .url()
    .default('postgres://postgres@127.0.0.1:5432/shop_products')
    .describe('Postgres connection string of the product database'),
  AMQP_URL: z.string().url().default('amqp://guest:guest@127.0.0.1:5672').describe('RabbitMQ connection string'),
  BROKER_STARTUP_WAIT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(5_000)
    .describe('How long start-up waits for RabbitMQ before serving anyway (consumers attach when it arrives)'),
  ...outboxConfigShape,
};

export type Config = z.infer<z.ZodObject<typeof configShape>>;
