import { findMissingProducts, findShortages } from '../../src/domain/stock-check';

describe('the advisory stock check', () => {
  const stock = new Map([
    [1, 100],
    [2, 50],
    [3, 5],
  ]);

  test('when every quantity is within stock, there is no shortage', () => {
    expect(
      findShortages(
        [
          { productId: 1, quantity: 2 },
          { productId: 3, quantity: 5 },
        ],
        stock,
      ),
    ).toEqual([]);
  });

  test('when a quantity is above stock, the shortage lists product, requested and available', () => {
    expect(
      findShortages(
        [
          { productId: 1, quantity: 2 },
          { productId: 3, quantity: 10 },
        ],
        stock,
      ),
    ).toEqual([{ product_id: 3, requested: 10, available: 5 }]);
  });

  test('a product with no known stock has none available', () => {
    expect(findShortages([{ productId: 9, quantity: 1 }], stock)).toEqual([
      { product_id: 9, requested: 1, available: 0 },
    ]);
  });

  test('missing products are listed in the order they were asked for', () => {
    expect(findMissingProducts([999, 1, 998], new Set([1]))).toEqual([999, 998]);
  });
});
