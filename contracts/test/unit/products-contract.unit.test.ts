import { ListProductsQuery, MAX_IDS_PER_LOOKUP, PriceInput } from '../../src';

describe('PriceInput', () => {
  it.each([
    ['25.99', '25.99'],
    [25.99, '25.99'],
    ['153.5', '153.5'],
    [153.5, '153.5'],
    [10, '10'],
    ['99999999.99', '99999999.99'],
  ])('accepts %p and leaves as the string %p', (input, expected) => {
    expect(PriceInput.parse(input)).toBe(expected);
  });

  it.each([['0'], [0], ['0.00'], ['-1.00'], [-5], ['1.999'], [1.999], ['abc'], [''], ['100000000.00'], [1e21], [null], [true]])(
    'rejects %p',
    (input) => {
      expect(PriceInput.safeParse(input).success).toBe(false);
    },
  );
});

describe('ListProductsQuery', () => {
  it('defaults to the first page of 20 when nothing is given', () => {
    expect(ListProductsQuery.parse({})).toEqual({ limit: 20, offset: 0 });
  });

  it('parses ids into numbers, once each, in the order given', () => {
    expect(ListProductsQuery.parse({ ids: '3,1,3,2' }).ids).toEqual([3, 1, 2]);
  });

  it.each([['1,,2'], ['1,a'], ['0'], ['-1'], [' 1'], ['1,'], ['01'], ['']])('rejects ids=%p', (ids) => {
    const result = ListProductsQuery.safeParse({ ids });

    expect(result.error?.issues[0].path).toEqual(['ids']);
  });

  it(`accepts ${MAX_IDS_PER_LOOKUP} distinct ids and rejects ${MAX_IDS_PER_LOOKUP + 1}`, () => {
    const ids = (count: number) => Array.from({ length: count }, (_, index) => index + 1).join(',');

    expect(ListProductsQuery.parse({ ids: ids(MAX_IDS_PER_LOOKUP) }).ids).toHaveLength(MAX_IDS_PER_LOOKUP);
    expect(ListProductsQuery.safeParse({ ids: ids(MAX_IDS_PER_LOOKUP + 1) }).success).toBe(false);
  });

  it('rejects an id beyond the database integer range', () => {
    expect(ListProductsQuery.safeParse({ ids: '1,2147483648' }).success).toBe(false);
  });

  it('rejects a limit outside 1..100 and a non-numeric offset', () => {
    expect(ListProductsQuery.safeParse({ limit: '0' }).success).toBe(false);
    expect(ListProductsQuery.safeParse({ limit: '101' }).success).toBe(false);
    expect(ListProductsQuery.safeParse({ offset: 'x' }).success).toBe(false);
    expect(ListProductsQuery.parse({ limit: '100', offset: '40' })).toEqual({ limit: 100, offset: 40 });
  });
});
