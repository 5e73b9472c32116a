import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;
export type SchemaIo = 'input' | 'output';
export type SchemaTarget = 'draft-2020-12' | 'draft-7';

/**
 * zod 4's own JSON Schema conversion, tuned for documents people read: `format` already says
 * "date-time" / "uuid", so zod's long equivalent regexes are dropped, and the per-schema
 * `$schema` / `$id` keywords go (the enclosing document names its dialect once).
 * `io: 'input'` describes what a client sends (defaults optional, transforms' input side);
 * `io: 'output'` what a server returns.
 */
const override = (ctx: { jsonSchema: JsonSchema }) => {
  const schema = ctx.jsonSchema;
  if (schema.format === 'date-time' || schema.format === 'uuid') delete schema.pattern;
};

const tidy = (schema: JsonSchema): JsonSchema => {
  const { $schema: _dialect, $id: _id, ...rest } = schema;
  return rest;
};

export function jsonSchemaOf(schema: z.ZodType, io: SchemaIo, target: SchemaTarget = 'draft-2020-12'): JsonSchema {
  return tidy(z.toJSONSchema(schema, { target, io, override, unrepresentable: 'throw' }) as JsonSchema);
}

/**
 * Converts named schemas together, so a named schema used inside another becomes a `$ref`
 * (`refPrefix` + name) instead of a copy.
 */
export function namedJsonSchemas(
  schemas: Record<string, z.ZodType>,
  io: SchemaIo,
  refPrefix: string,
  target: SchemaTarget = 'draft-2020-12',
): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const { schemas: converted } = z.toJSONSchema(registry, {
    target,
    io,
    override,
    unrepresentable: 'throw',
    uri: (id) => `${refPrefix}${id}`,
  }) as { schemas: Record<string, JsonSchema> };
  return Object.fromEntries(Object.keys(schemas).map((id) => [id, tidy(converted[id])]));
}
