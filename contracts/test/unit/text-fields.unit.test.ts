import { ChangeOrderStatusBody, CreateProductBody, PatchProductBody, Text } from '../../src';

/**
 * Free text is stored in Postgres: a NUL fails the insert ("invalid byte sequence for encoding
 * UTF8: 0x00", once a 500) and an unpaired surrogate is silently stored as U+FFFD. The contracts
 * refuse both, so every service answers 422 validation_error naming the field.
 */
const pathsOf = (result: { error?: { issues: { path: PropertyKey[] }[] } }) =>
  result.error?.issues.map((issue) => issue.path.join('.'));

describe('Text', () => {
  it.each([
    ['a NUL', 'a\u0000b'],
    ['a lone high surrogate', 'x\ud800'],
    ['a lone low surrogate', '\udc00y'],
    ['surrogates in the wrong order', '\ude00\ud83d'],
  ])('rejects %s', (_what, value) => {
    expect(Text.safeParse(value).success).toBe(false);
  });

  it.each([
    ['plain ASCII'],
    ['Ünïcödé, 中文 and an emoji 😀 (a surrogate pair)'],
    [''],
    ['tab\tand newline\n'],
  ])('accepts %p', (value) => {
    expect(Text.parse(value)).toBe(value);
  });
});

describe('text fields of the request bodies', () => {
  const product = { name: 'Desk Lamp', description: 'bright', price: '19.99', stock: 3 };

  it.each([
    ['a product name with a NUL', CreateProductBody, { ...product, name: 'Desk\u0000Lamp' }, 'name'],
    [
      'a product description with a lone surrogate',
      CreateProductBody,
      { ...product, description: 'bright \ud800' },
      'description',
    ],
    ['a patched name with a lone surrogate', PatchProductBody, { name: '\udfffLamp' }, 'name'],
    ['a patched description with a NUL', PatchProductBody, { description: '\u0000' }, 'description'],
    [
      'a cancel reason with a NUL',
      ChangeOrderStatusBody,
      { status: 'cancelled', reason: 'changed my mind\u0000' },
      'reason',
    ],
    [
      'a cancel reason with a lone surrogate',
      ChangeOrderStatusBody,
      { status: 'cancelled', reason: '\ud83d' },
      'reason',
    ],
  ])('%s is rejected at its own path', (_what, schema, body, path) => {
    expect(pathsOf(schema.safeParse(body))).toEqual([path]);
  });

  it('text with emoji and accents is still accepted', () => {
    expect(CreateProductBody.parse({ ...product, name: 'Lampe à poser 💡' }).name).toBe('Lampe à poser 💡');
  });
});
