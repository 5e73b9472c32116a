import type { JsonSchema } from './json-schema';

/**
 * Compares two JSON Schemas of an event payload and lists what would break a consumer or
 * producer written against the old one: a property removed, a property whose type (or allowed
 * values) changed, a property newly required. Adding an optional property is not breaking.
 * Used by the contract test and by the generator when it refreshes the snapshots.
 */
export function breakingChanges(before: JsonSchema, after: JsonSchema, path = '$'): string[] {
  const changes: string[] = [];
  const typesBefore = typesOf(before);
  const typesAfter = typesOf(after);
  if (typesBefore !== typesAfter) changes.push(`${path}: type changed from ${typesBefore} to ${typesAfter}`);

  const valuesBefore = allowedValues(before);
  const valuesAfter = allowedValues(after);
  if (valuesBefore && (!valuesAfter || valuesBefore.length !== valuesAfter.length || valuesBefore.some((value) => !valuesAfter.includes(value)))) {
    changes.push(`${path}: allowed values changed from [${valuesBefore.join(', ')}] to [${valuesAfter?.join(', ') ?? 'any'}]`);
  } else if (!valuesBefore && valuesAfter) {
    changes.push(`${path}: now restricted to [${valuesAfter.join(', ')}]`);
  }

  const objectBefore = member(before, 'properties');
  const objectAfter = member(after, 'properties');
  if (objectBefore && objectAfter) {
    const propsBefore = objectBefore.properties as Record<string, JsonSchema>;
    const propsAfter = objectAfter.properties as Record<string, JsonSchema>;
    const requiredBefore = new Set((objectBefore.required as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries(propsBefore)) {
      if (!(name in propsAfter)) changes.push(`${path}.${name}: removed`);
      else changes.push(...breakingChanges(schema, propsAfter[name], `${path}.${name}`));
    }
    for (const name of (objectAfter.required as string[] | undefined) ?? []) {
      if (!requiredBefore.has(name)) changes.push(`${path}.${name}: newly required`);
    }
  }

  const arrayBefore = member(before, 'items');
  const arrayAfter = member(after, 'items');
  if (arrayBefore && arrayAfter) {
    changes.push(...breakingChanges(arrayBefore.items as JsonSchema, arrayAfter.items as JsonSchema, `${path}[]`));
  }
  return changes;
}

const variants = (schema: JsonSchema): JsonSchema[] => [
  schema,
  ...(((schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined) ?? []).flatMap(variants),
];

/** The JSON types a schema admits, as a sorted list ("any" when it does not say). */
function typesOf(schema: JsonSchema): string {
  const types = new Set<string>();
  for (const variant of variants(schema)) {
    const type = variant.type as string | string[] | undefined;
    for (const name of Array.isArray(type) ? type : type ? [type] : []) types.add(name);
    if ('const' in variant) types.add(variant.const === null ? 'null' : typeof variant.const);
  }
  return types.size ? [...types].sort().join('|') : 'any';
}

function allowedValues(schema: JsonSchema): string[] | undefined {
  const values = variants(schema).flatMap((variant) =>
    Array.isArray(variant.enum) ? variant.enum : 'const' in variant ? [variant.const] : [],
  );
  return values.length ? values.map((value) => JSON.stringify(value)).sort() : undefined;
}

const member = (schema: JsonSchema, key: 'properties' | 'items') => variants(schema).find((variant) => key in variant);

export type SnapshotVerdict =
  | { status: 'current' }
  | { status: 'compatible'; detail: string }
  | { status: 'missing'; detail: string }
  | { status: 'breaking'; detail: string; changes: string[] };

/**
 * Judges an event payload schema against its snapshot for the same `dataschema` version:
 * equal → current; only additive → compatible (refresh the snapshot); none yet → missing
 * (record it: a new version starts its own snapshot); anything else → breaking, which needs a
 * new version in EVENT_SCHEMA_VERSION so consumers can accept both during a rollout.
 */
export function judgeEventSchema(label: string, current: JsonSchema, snapshot: JsonSchema | undefined): SnapshotVerdict {
  if (!snapshot) return { status: 'missing', detail: `${label}: no snapshot recorded for this version yet` };
  if (JSON.stringify(snapshot) === JSON.stringify(current)) return { status: 'current' };
  const changes = breakingChanges(snapshot, current);
  if (changes.length === 0) return { status: 'compatible', detail: `${label}: additive change, snapshot to refresh` };
  return {
    status: 'breaking',
    changes,
    detail: `${label}: breaking change without a new dataschema version (${changes.join('; ')}); bump EVENT_SCHEMA_VERSION and record a new snapshot`,
  };
}

/** `OrderCreated.v1.json`: where each version's snapshot lives in contracts/test/event-schemas. */
export const eventSnapshotFile = (type: string, version: number) => `${type}.v${version}.json`;
