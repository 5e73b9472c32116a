import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { EVENT_SCHEMA_VERSION, EVENT_TYPES, OrderCreatedData } from '../../src';
import { breakingChanges, eventDataJsonSchema, eventSnapshotFile, jsonSchemaOf, judgeEventSchema } from '../../tools';

const snapshots = path.join(__dirname, '..', 'event-schemas');
const readSnapshot = (file: string) => (existsSync(path.join(snapshots, file)) ? JSON.parse(readFileSync(path.join(snapshots, file), 'utf8')) : undefined);
const schemaOf = (schema: z.ZodType) => jsonSchemaOf(schema, 'input');

/**
 * Event payloads may only grow. Each `dataschema` version has a committed snapshot of its
 * payload's JSON Schema in test/event-schemas/<Type>.v<N>.json; the current contract must stay
 * compatible with the snapshot of its version, and a breaking change needs a new version.
 */
describe('event payload compatibility with the recorded dataschema versions', () => {
  it.each(EVENT_TYPES)('%s has not broken its current dataschema version', (type) => {
    const version = EVENT_SCHEMA_VERSION[type];
    const verdict = judgeEventSchema(`${type} v${version}`, eventDataJsonSchema(type), readSnapshot(eventSnapshotFile(type, version)));

    if (verdict.status === 'missing') throw new Error(`${verdict.detail}: run \`npm run docs:generate\` and commit test/event-schemas.`);
    if (verdict.status === 'breaking') throw new Error(verdict.detail);
    expect(['current', 'compatible']).toContain(verdict.status);
  });

  it('keeps no snapshot of a version newer than the contract', () => {
    const ahead = readdirSync(snapshots)
      .map((file) => /^(\w+)\.v(\d+)\.json$/.exec(file))
      .filter((match): match is RegExpExecArray => match !== null)
      .filter(([, type, version]) => !(type in EVENT_SCHEMA_VERSION) || Number(version) > EVENT_SCHEMA_VERSION[type as keyof typeof EVENT_SCHEMA_VERSION]);

    expect(ahead.map(([file]) => file)).toEqual([]);
  });
});

describe('what counts as a breaking change to an event payload', () => {
  const v1 = schemaOf(OrderCreatedData);

  it('adding an optional property is compatible', () => {
    const verdict = judgeEventSchema('OrderCreated v1', schemaOf(OrderCreatedData.extend({ coupon: z.string().optional() })), v1);

    expect(verdict.status).toBe('compatible');
  });

  it('removing a property is breaking', () => {
    expect(breakingChanges(v1, schemaOf(OrderCreatedData.omit({ user_id: true })))).toEqual(['$.user_id: removed']);
  });

  it('changing a property type is breaking', () => {
    const changes = breakingChanges(v1, schemaOf(OrderCreatedData.extend({ total_amount: z.number() })));

    expect(changes).toEqual(['$.total_amount: type changed from string to number']);
  });

  it('changing the type of a field inside the items is breaking', () => {
    const items = z.array(z.object({ product_id: z.string(), product_name: z.string(), product_price: z.string(), quantity: z.number().int(), subtotal: z.string() }));

    expect(breakingChanges(v1, schemaOf(OrderCreatedData.extend({ items })))).toContain('$.items[].product_id: type changed from integer to string');
  });

  it('requiring a new property is breaking', () => {
    expect(breakingChanges(v1, schemaOf(OrderCreatedData.extend({ currency: z.string() })))).toEqual(['$.currency: newly required']);
  });

  it('making an optional property required is breaking', () => {
    const before = schemaOf(z.object({ reason: z.string().optional() }));

    expect(breakingChanges(before, schemaOf(z.object({ reason: z.string() })))).toEqual(['$.reason: newly required']);
  });

  it('dropping a value of an enum is breaking; a nullable field turning non-null is breaking', () => {
    const statuses = z.enum(['pending', 'confirmed', 'shipped', 'delivered']);

    expect(breakingChanges(v1, schemaOf(OrderCreatedData.extend({ status: statuses })))).toEqual([
      expect.stringMatching(/^\$\.status: allowed values changed/),
    ]);
    expect(breakingChanges(schemaOf(z.object({ reason: z.string().nullable() })), schemaOf(z.object({ reason: z.string() })))).toEqual([
      '$.reason: type changed from null|string to string',
    ]);
  });

  it('a breaking change is accepted once it is a new version with its own snapshot', () => {
    const v2 = schemaOf(OrderCreatedData.omit({ user_id: true }));

    expect(judgeEventSchema('OrderCreated v1', v2, v1).status).toBe('breaking');
    expect(judgeEventSchema('OrderCreated v2', v2, undefined).status).toBe('missing');
    expect(judgeEventSchema('OrderCreated v2', v2, v2).status).toBe('current');
  });
});
