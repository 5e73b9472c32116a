import type { z } from 'zod';
import {
  baseConfigShape,
  brokerConfigShape,
  databaseConfigShape,
  httpPortConfigShape,
  outboxConfigShape,
} from '@shop/platform';

export const configShape = {
  ...baseConfigShape,
  ...httpPortConfigShape(8001, 'product service'),
  ...databaseConfigShape('shop_products', 'product'),
  ...brokerConfigShape,
  ...outboxConfigShape,
};

export type Config = z.infer<z.ZodObject<typeof configShape>>;
