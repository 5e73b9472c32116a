import { CreateOrderBody, MAX_ITEMS_PER_ORDER, MAX_QUANTITY } from '../../src';

const buildLines = (count: number) => Array.from({ length: count }, (_, index) => ({ product_id: index + 1, quantity: 1 }));
const pathsOf = (input: unknown) => CreateOrderBody.safeParse(input).error?.issues.map((issue) => issue.path.join('.')) ?? [];

describe('CreateOrderBody', () => {
  it('accepts the seed order of two mice and a keyboard', () => {
    const result = CreateOrderBody.safeParse({ items: [{ product_id: 1, quantity: 2 }, { product_id: 2, quantity: 1 }] });

    expect(result.success).toBe(true);
  });

  it('rejects an order without items, pointing at items', () => {
    expect(pathsOf({ items: [] })).toEqual(['items']);
  });

  it('rejects a quantity of 0 at that line', () => {
    expect(pathsOf({ items: [{ product_id: 1, quantity: 0 }] })).toEqual(['items.0.quantity']);
  });

  it(`accepts a quantity of ${MAX_QUANTITY} and rejects ${MAX_QUANTITY + 1}`, () => {
    expect(CreateOrderBody.safeParse({ items: [{ product_id: 1, quantity: MAX_QUANTITY }] }).success).toBe(true);
    expect(pathsOf({ items: [{ product_id: 1, quantity: MAX_QUANTITY + 1 }] })).toEqual(['items.0.quantity']);
  });

  it('rejects a fractional or string quantity', () => {
    expect(pathsOf({ items: [{ product_id: 1, quantity: 1.5 }] })).toEqual(['items.0.quantity']);
    expect(pathsOf({ items: [{ product_id: 1, quantity: '2' }] })).toEqual(['items.0.quantity']);
  });

  it('rejects a product that appears twice, at its second line', () => {
    const result = CreateOrderBody.safeParse({ items: [{ product_id: 1, quantity: 1 }, { product_id: 2, quantity: 1 }, { product_id: 1, quantity: 3 }] });

    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: ['items', 2, 'product_id'], message: expect.stringMatching(/product 1 appears more than once/) }),
    ]);
  });

  it('rejects unknown fields on the body and on a line', () => {
    expect(CreateOrderBody.safeParse({ items: buildLines(1), coupon: 'FREE' }).error?.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['coupon'] });
    expect(pathsOf({ items: [{ product_id: 1, quantity: 1, price: '0.01' }] })).toEqual(['items.0']);
  });

  it(`accepts ${MAX_ITEMS_PER_ORDER} lines and rejects ${MAX_ITEMS_PER_ORDER + 1}`, () => {
    expect(CreateOrderBody.safeParse({ items: buildLines(MAX_ITEMS_PER_ORDER) }).success).toBe(true);
    expect(pathsOf({ items: buildLines(MAX_ITEMS_PER_ORDER + 1) })).toEqual(['items']);
  });

  it('rejects product ids that are not positive integers within the database range', () => {
    expect(pathsOf({ items: [{ product_id: 0, quantity: 1 }] })).toEqual(['items.0.product_id']);
    expect(pathsOf({ items: [{ product_id: 2_147_483_648, quantity: 1 }] })).toEqual(['items.0.product_id']);
  });
});
