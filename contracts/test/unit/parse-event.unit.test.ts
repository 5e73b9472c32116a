import { EVENT_SCHEMA_VERSION, dataschemaOf, parseEvent } from '../../src';
import { EVENT_EXAMPLES } from '../../tools/examples';

const buildEnvelope = (overrides: Record<string, unknown> = {}) => ({ ...structuredClone(EVENT_EXAMPLES.OrderCreated), ...overrides });

describe('parseEvent', () => {
  it('accepts a valid OrderCreated envelope and returns its typed payload', () => {
    const result = parseEvent(buildEnvelope());

    expect(result).toEqual({ ok: true, event: expect.objectContaining({ type: 'OrderCreated', data: expect.objectContaining({ total_amount: '205.48' }) }) });
  });

  it('accepts every example envelope of the documents', () => {
    for (const example of Object.values(EVENT_EXAMPLES)) expect(parseEvent(example)).toMatchObject({ ok: true });
  });

  it.each([
    ['a missing id', { id: undefined }],
    ['an id that is not a uuid', { id: 'evt-1' }],
    ['another specversion', { specversion: '0.3' }],
    ['a time without an offset', { time: '2025-01-01T12:00:00' }],
    ['a malformed dataschema', { dataschema: 'https://example.com/schema' }],
    ['a negative sequence', { sequence: -1 }],
  ])('rejects an envelope with %s as invalid_envelope', (_case, overrides) => {
    expect(parseEvent(buildEnvelope(overrides))).toMatchObject({ ok: false, reason: 'invalid_envelope' });
  });

  it('rejects something that is not an object at all as invalid_envelope', () => {
    expect(parseEvent('OrderCreated')).toMatchObject({ ok: false, reason: 'invalid_envelope' });
    expect(parseEvent(null)).toMatchObject({ ok: false, reason: 'invalid_envelope' });
  });

  it('rejects an unknown type as unknown_type', () => {
    const result = parseEvent(buildEnvelope({ type: 'OrderShipped', dataschema: 'urn:shop:events:OrderShipped:1' }));

    expect(result).toMatchObject({ ok: false, reason: 'unknown_type', detail: expect.stringContaining('OrderShipped') });
  });

  it('rejects a schema version newer than this build understands', () => {
    const future = dataschemaOf('OrderCreated', EVENT_SCHEMA_VERSION.OrderCreated + 1);

    expect(parseEvent(buildEnvelope({ dataschema: future }))).toMatchObject({ ok: false, reason: 'unsupported_schema_version' });
  });

  it('rejects a dataschema that names another type', () => {
    expect(parseEvent(buildEnvelope({ dataschema: dataschemaOf('StockReserved') }))).toMatchObject({
      ok: false,
      reason: 'unsupported_schema_version',
    });
  });

  it('rejects a payload that does not match its type as invalid_data, naming the field', () => {
    const data = { ...EVENT_EXAMPLES.OrderCreated.data, total_amount: 205.48 };

    expect(parseEvent(buildEnvelope({ data }))).toMatchObject({ ok: false, reason: 'invalid_data', detail: expect.stringContaining('total_amount') });
  });

  it('ignores payload fields it does not know (payloads only grow)', () => {
    const data = { ...EVENT_EXAMPLES.OrderCreated.data, coupon: 'SPRING' };

    expect(parseEvent(buildEnvelope({ data }))).toMatchObject({ ok: true });
  });
});
