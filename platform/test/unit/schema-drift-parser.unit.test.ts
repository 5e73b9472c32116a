import { parsePrismaSchema } from '../../src/testing/schema-drift';

const SOURCE = `
datasource db { provider = "postgresql" }

enum OrderStatus {
  pending
  cancelled @map("CANCELLED")
  @@map("order_status")
}

/// a doc comment
model Order {
  id     Int         @id @default(autoincrement())
  status OrderStatus @default(pending) // trailing comment
  note   String?     @db.VarChar(20)
  total  Decimal     @db.Decimal(10, 2)
  data   Json        @default("{\\"a\\": 1}")
  items  OrderItem[]

  @@index([status, id], map: "orders_status_idx")
  @@map("orders")
}

model OrderItem {
  orderId Int   @map("order_id")
  line    Int
  order   Order @relation(fields: [orderId], references: [id], onDelete: Cascade)

  @@id([orderId, line])
  @@unique([line])
  @@map("order_items")
}
`;

describe('parsing schema.prisma', () => {
  const schema = parsePrismaSchema(SOURCE);
  const order = schema.models.find((m) => m.name === 'Order')!;
  const item = schema.models.find((m) => m.name === 'OrderItem')!;

  it('reads table names, columns, optionality, native types and defaults of every scalar field', () => {
    expect(order.table).toBe('orders');
    expect(order.fields.map((f) => f.name)).toEqual(['id', 'status', 'note', 'total', 'data']);
    expect(order.fields.find((f) => f.name === 'note')).toMatchObject({ optional: true, nativeType: { name: 'VarChar', args: ['20'] } });
    expect(order.fields.find((f) => f.name === 'total')!.nativeType).toEqual({ name: 'Decimal', args: ['10', '2'] });
    expect(order.fields.find((f) => f.name === 'status')!.default).toBe('pending');
    expect(order.fields.find((f) => f.name === 'data')!.default).toBe('"{\\"a\\": 1}"');
  });

  it('reads primary keys, composite ids, uniques, indexes and the owning side of relations', () => {
    expect(order.primaryKey).toEqual(['id']);
    expect(order.indexes).toEqual([{ fields: ['status', 'id'], name: 'orders_status_idx' }]);
    expect(item.primaryKey).toEqual(['orderId', 'line']);
    expect(item.uniques).toEqual([{ fields: ['line'], name: undefined }]);
    expect(item.fields.find((f) => f.name === 'orderId')!.column).toBe('order_id');
    expect(item.relations[0].relation).toEqual({ fields: ['orderId'], references: ['id'], onDelete: 'Cascade' });
    expect(order.relations).toEqual([]);
  });

  it('reads enums with their mapped names and values', () => {
    expect(schema.enums).toEqual([{ name: 'OrderStatus', dbName: 'order_status', values: ['pending', 'CANCELLED'] }]);
  });
});
