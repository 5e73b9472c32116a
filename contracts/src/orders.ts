import { z } from 'zod';
import { Id, Money, PageQuery, Text, Timestamp, listOf } from './common';

export const ORDER_STATUSES = ['pending', 'confirmed', 'shipped', 'delivered', 'cancelled'] as const;
export const OrderStatus = z.enum(ORDER_STATUSES);
export type OrderStatus = z.infer<typeof OrderStatus>;

export const OrderItem = z.object({
  id: Id,
  product_id: Id,
  product_name: z.string(),
  product_price: Money,
  quantity: z.number().int().positive(),
  subtotal: Money,
});
export type OrderItem = z.infer<typeof OrderItem>;

export const Order = z.object({
  id: Id,
  user_id: Id,
  status: OrderStatus,
  total_amount: Money,
  cancel_reason: z.string().nullable(),
  items: z.array(OrderItem),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Order = z.infer<typeof Order>;

export const MAX_ITEMS_PER_ORDER = 100;
export const MAX_QUANTITY = 1000;

export const OrderLine = z.strictObject({
  product_id: Id,
  quantity: z.number().int().min(1).max(MAX_QUANTITY),
});
export type OrderLine = z.infer<typeof OrderLine>;

export const CreateOrderBody = z.strictObject({
  items: z
    .array(OrderLine)
    .min(1)
    .max(MAX_ITEMS_PER_ORDER)
    .superRefine((lines, ctx) => {
      const seen = new Set<number>();
      lines.forEach((line, index) => {
        if (seen.has(line.product_id)) {
          ctx.addIssue({
            code: 'custom',
            path: [index, 'product_id'],
            message: `product ${line.product_id} appears more than once; combine the quantities`,
          });
        }
        seen.add(line.product_id);
      });
    }),
});
export type CreateOrderBody = z.infer<typeof CreateOrderBody>;

export const ChangeOrderStatusBody = z.strictObject({
  status: OrderStatus,
  reason: Text.trim().min(1).max(200).optional(),
});
export type ChangeOrderStatusBody = z.infer<typeof ChangeOrderStatusBody>;

export const ListOrdersQuery = PageQuery.extend({
  status: OrderStatus.optional(),
  user_id: z
    .string()
    .regex(/^[1-9]\d{0,9}$/, 'must be a positive integer')
    .transform(Number)
    .pipe(Id)
    .optional(),
});
export type ListOrdersQuery = z.infer<typeof ListOrdersQuery>;

export const OrderList = listOf(Order);
export type OrderList = z.infer<typeof OrderList>;

export const RouteHealth = z.object({ status: z.literal('ok'), service: z.string() });
