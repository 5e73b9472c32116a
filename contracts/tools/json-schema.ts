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
