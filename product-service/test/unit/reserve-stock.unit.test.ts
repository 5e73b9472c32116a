import { consolidateLines, decideReservation } from '../../src/domain/stock-reservation';

const stock = (entries: [number, number][]) => new Map(entries);

describe('deciding a stock reservation', () => {
  it('given enough stock for every line, when deciding, then every line is reserved in product-id order', () => {
    const decision = decideReservation(
      [
        { product_id: 2, quantity: 1 },
        { product_id: 1, quantity: 2 },
      ],
      stock([
        [1, 2],
        [2, 50],
      ]),
    );

    expect(decision).toEqual({
      kind: 'reserve',
      lines: [
        { product_id: 1, quantity: 2 },
        { product_id: 2, quantity: 1 },
      ],
    });
  });

  it('given the same product on two lines with enough stock, when deciding, then it is taken once, by their sum', () => {
    const decision = decideReservation(
      [
        { product_id: 7, quantity: 2 },
        { product_id: 7, quantity: 3 },
      ],
      stock([[7, 10]]),
    );

    expect(decision).toEqual({ kind: 'reserve', lines: [{ product_id: 7, quantity: 5 }] });
  });

  it('given one short line, when deciding, then nothing is reserved and only the short line is reported', () => {
    const decision = decideReservation(
      [
        { product_id: 1, quantity: 1 },
        { product_id: 3, quantity: 10 },
      ],
      stock([
        [1, 100],
        [3, 5],
      ]),
    );

    expect(decision).toEqual({
      kind: 'reject',
      reason: 'insufficient_stock',
      shortages: [{ product_id: 3, requested: 10, available: 5 }],
    });
  });

  it('given an unknown product, when deciding, then it is a shortage with 0 available', () => {
    const decision = decideReservation([{ product_id: 999, quantity: 1 }], stock([]));

    expect(decision).toEqual({
      kind: 'reject',
      reason: 'insufficient_stock',
      shortages: [{ product_id: 999, requested: 1, available: 0 }],
    });
  });

  it('given exactly the stock left, when deciding, then it is reserved (stock may reach zero)', () => {
    expect(decideReservation([{ product_id: 1, quantity: 5 }], stock([[1, 5]])).kind).toBe('reserve');
  });

  it('given the same product on two lines, when deciding, then their sum is checked against the stock', () => {
    const decision = decideReservation(
      [
        { product_id: 1, quantity: 3 },
        { product_id: 1, quantity: 3 },
      ],
      stock([[1, 5]]),
    );

    expect(decision).toEqual({
      kind: 'reject',
      reason: 'insufficient_stock',
      shortages: [{ product_id: 1, requested: 6, available: 5 }],
    });
  });

  it('given lines in any order, when consolidating, then they come out summed and sorted by product id', () => {
    expect(
      consolidateLines([
        { product_id: 9, quantity: 1 },
        { product_id: 4, quantity: 2 },
        { product_id: 9, quantity: 4 },
      ]),
    ).toEqual([
      { product_id: 4, quantity: 2 },
      { product_id: 9, quantity: 5 },
    ]);
  });
});
