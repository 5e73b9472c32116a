import { exceedsMaxAmount, priceOrder, type PricedLineInput } from '../../src/domain/pricing';

const buildLine = (overrides: Partial<PricedLineInput> = {}): PricedLineInput => ({
  productId: 1,
  productName: 'Wireless Mouse',
  unitPrice: '25.99',
  quantity: 1,
  ...overrides,
});

describe('pricing an order', () => {
  test('given the seed order (2 × 25.99 and 1 × 153.50), the total is "205.48"', () => {
    // Arrange
    const lines = [
      buildLine({ productId: 1, unitPrice: '25.99', quantity: 2 }),
      buildLine({ productId: 2, productName: 'Mechanical Keyboard', unitPrice: '153.50', quantity: 1 }),
    ];

    // Act
    const priced = priceOrder(lines);

    // Assert
    expect(priced.totalAmount).toBe('205.48');
    expect(priced.lines.map((line) => line.subtotal)).toEqual(['51.98', '153.50']);
    expect(priced.lines.map((line) => line.productPrice)).toEqual(['25.99', '153.50']);
  });

  test('amounts that floats get wrong are exact (0.10 × 3 + 0.20 = "0.50")', () => {
    const priced = priceOrder([
      buildLine({ productId: 1, unitPrice: '0.10', quantity: 3 }),
      buildLine({ productId: 2, unitPrice: '0.20', quantity: 1 }),
    ]);
    expect(priced.lines[0]!.subtotal).toBe('0.30');
    expect(priced.totalAmount).toBe('0.50');
  });

  test('a price given without two places comes back with two', () => {
    const priced = priceOrder([buildLine({ unitPrice: '153.5', quantity: 1 })]);
    expect(priced.lines[0]!.productPrice).toBe('153.50');
    expect(priced.totalAmount).toBe('153.50');
  });

  test('the snapshot keeps the product name and quantity', () => {
    const priced = priceOrder([
      buildLine({ productId: 3, productName: 'USB-C Hub', unitPrice: '49.99', quantity: 4 }),
    ]);
    expect(priced.lines[0]).toEqual({
      productId: 3,
      productName: 'USB-C Hub',
      productPrice: '49.99',
      quantity: 4,
      subtotal: '199.96',
    });
  });

  test('large exact totals do not lose cents (1000 × 99999.99)', () => {
    const priced = priceOrder([buildLine({ unitPrice: '99999.99', quantity: 1000 })]);
    expect(priced.totalAmount).toBe('99999990.00');
    expect(exceedsMaxAmount(priced)).toBe(false);
  });

  test('a total beyond numeric(10,2) is flagged', () => {
    const priced = priceOrder([buildLine({ unitPrice: '99999999.99', quantity: 2 })]);
    expect(exceedsMaxAmount(priced)).toBe(true);
  });
});
