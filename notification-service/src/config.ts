import { z } from 'zod';
import { baseConfigShape, brokerConfigShape, databaseConfigShape, httpPortConfigShape } from '@shop/platform';

export const configShape = {
  ...baseConfigShape,
  ...httpPortConfigShape(8004, 'notification service'),
  ...databaseConfigShape('shop_notifications', 'notification'),
  ...brokerConfigShape,
  CONSUMER_PREFETCH: z.coerce.number().int().positive().default(20).describe('Unacked events the consumer works on at once'),
  CONSUMER_MAX_ATTEMPTS: z.coerce
    .number()
    .int()
    .positive()
    .default(5)
    .describe('Handler attempts per event before it is dead-lettered'),
};

export type Config = z.infer<z.ZodObject<typeof configShape>>;
