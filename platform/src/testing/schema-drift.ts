/**
 * Migrations-vs-schema drift check. Our migrations are hand-written SQL (Prisma's schema engine
 * cannot run offline), so nothing else guarantees that what `schema.prisma` tells the client
 * matches what the migrations build. This reads the models of a schema.prisma (a small parser:
 * models, enums, fields, @id/@@id, @unique/@@unique, @@index, @map/@@map, @db.* native types,
 * @default, @relation) and compares them to the live catalogue of a database the migrations were
 * applied to: tables, columns, types, nullability, defaults, primary keys, unique constraints,
 * indexes, foreign keys and enum labels. Extras on the database side are reported too, except
 * CHECK constraints, triggers, functions and partial indexes, which Prisma cannot express.
 *
 *   await assertMigrationsMatchSchema({ schemaPath, databaseUrl });   // throws with every difference
 */
import { readFileSync } from 'node:fs';
import { Client } from 'pg';

// ---------------------------------------------------------------------------------------------
// schema.prisma → a model description

export interface PrismaField {
  name: string;
  column: string;
  type: string;
  optional: boolean;
  list: boolean;
  /** `@db.VarChar(200)` → { name: 'VarChar', args: ['200'] } */
  nativeType?: { name: string; args: string[] };
  default?: string;
  id: boolean;
  unique: boolean;
  /** Set for a relation field that owns the foreign key: `@relation(fields: [...], references: [...])`. */
  relation?: { fields: string[]; references: string[]; onDelete?: string };
}

export interface PrismaModel {
  name: string;
  table: string;
  fields: PrismaField[];
  /** Scalar fields only, with relation-typed fields listed in `relations`. */
  primaryKey: string[];
  uniques: { fields: string[]; name?: string }[];
  indexes: { fields: string[]; name?: string }[];
  relations: PrismaField[];
}

export interface PrismaEnum {
  name: string;
  dbName: string;
  values: string[];
}

export interface PrismaSchema {
  models: PrismaModel[];
  enums: PrismaEnum[];
}

const BLOCK = /^\s*(model|enum)\s+(\w+)\s*\{([\s\S]*?)^\s*\}/gm;

/** Removes `//` and `///` comments outside of string literals. */
function stripComment(line: string): string {
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (char === '"' && line[i - 1] !== '\\') inString = !inString;
    if (!inString && char === '/' && line[i + 1] === '/') return line.slice(0, i);
  }
  return line;
}

/** Splits `@a(x, y) @b` into attributes, respecting parentheses and strings. */
function attributes(text: string): { name: string; args: string }[] {
  const result: { name: string; args: string }[] = [];
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf('@', i);
    if (at < 0) break;
    const nameMatch = /^@{1,2}[\w.]+/.exec(text.slice(at));
    if (!nameMatch) break;
    let j = at + nameMatch[0].length;
    let args = '';
    if (text[j] === '(') {
      let depth = 0;
      let inString = false;
      const start = j;
      for (; j < text.length; j++) {
        const char = text[j];
        if (char === '"' && text[j - 1] !== '\\') inString = !inString;
        if (inString) continue;
        if (char === '(') depth++;
        if (char === ')' && --depth === 0) break;
      }
      args = text.slice(start + 1, j);
      j++;
    }
    result.push({ name: nameMatch[0], args: args.trim() });
    i = j;
  }
  return result;
}

/** Splits top-level comma-separated arguments. */
function splitArgs(args: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inString = false;
  let current = '';
  for (let i = 0; i < args.length; i++) {
    const char = args[i];
    if (char === '"' && args[i - 1] !== '\\') inString = !inString;
    if (!inString && (char === '(' || char === '[')) depth++;
    if (!inString && (char === ')' || char === ']')) depth--;
    if (!inString && depth === 0 && char === ',') {
      parts.push(current.trim());
      current = '';
    } else current += char;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

const named = (args: string, key: string) =>
  splitArgs(args)
    .find((part) => part.startsWith(`${key}:`))
    ?.slice(key.length + 1)
    .trim();
const positional = (args: string) => splitArgs(args).find((part) => !/^\w+\s*:/.test(part));
const unquote = (value: string | undefined) => value?.replace(/^"(.*)"$/, '$1');
/** `[a, b(sort: Desc)]` → ['a', 'b'] */
const fieldList = (value: string | undefined) =>
  (value ?? '')
    .replace(/^\[|\]$/g, '')
    .split(',')
    .map((part) => part.trim().replace(/\(.*\)$/, ''))
    .filter(Boolean);

export function parsePrismaSchema(source: string): PrismaSchema {
  const blocks = [...source.matchAll(BLOCK)].map(([, kind, name, body]) => ({
    kind,
    name,
    lines: body
      .split('\n')
      .map(stripComment)
      .map((line) => line.trim())
      .filter(Boolean),
  }));
  const modelNames = new Set(blocks.filter((b) => b.kind === 'model').map((b) => b.name));

  const enums: PrismaEnum[] = blocks
    .filter((b) => b.kind === 'enum')
    .map((block) => {
      const map = block.lines.find((line) => line.startsWith('@@map'));
      return {
        name: block.name,
        dbName: map ? unquote(positional(attributes(map)[0].args))! : block.name,
        values: block.lines
          .filter((line) => !line.startsWith('@@'))
          .map((line) => {
            const valueMap = attributes(line).find((a) => a.name === '@map');
            return valueMap ? unquote(positional(valueMap.args))! : line.split(/\s+/)[0];
          }),
      };
    });

  const models = blocks
    .filter((b) => b.kind === 'model')
    .map((block): PrismaModel => {
      const model: PrismaModel = {
        name: block.name,
        table: block.name,
        fields: [],
        primaryKey: [],
        uniques: [],
        indexes: [],
        relations: [],
      };
      for (const line of block.lines) {
        if (line.startsWith('@@')) {
          for (const attr of attributes(line)) {
            const fields = fieldList(named(attr.args, 'fields') ?? positional(attr.args));
            const name = unquote(named(attr.args, 'map') ?? named(attr.args, 'name'));
            if (attr.name === '@@map') model.table = unquote(positional(attr.args))!;
            if (attr.name === '@@id') model.primaryKey = fields;
            if (attr.name === '@@unique') model.uniques.push({ fields, name });
            if (attr.name === '@@index') model.indexes.push({ fields, name });
          }
          continue;
        }
        const match = /^(\w+)\s+(\w+)(\[\])?(\?)?\s*(.*)$/.exec(line);
        if (!match) throw new Error(`schema-drift: cannot parse field line in model ${block.name}: ${line}`);
        const [, name, type, list, optional, rest] = match;
        const attrs = attributes(rest);
        const attr = (attrName: string) => attrs.find((a) => a.name === attrName);
        const native = attrs.find((a) => a.name.startsWith('@db.'));
        const relation = attr('@relation');
        const field: PrismaField = {
          name,
          column: unquote(positional(attr('@map')?.args ?? '')) ?? name,
          type,
          optional: Boolean(optional),
          list: Boolean(list),
          nativeType: native ? { name: native.name.slice(4), args: splitArgs(native.args) } : undefined,
          default: attr('@default') ? attr('@default')!.args : undefined,
          id: Boolean(attr('@id')),
          unique: Boolean(attr('@unique')),
        };
        if (modelNames.has(type)) {
          if (relation && named(relation.args, 'fields')) {
            field.relation = {
              fields: fieldList(named(relation.args, 'fields')),
              references: fieldList(named(relation.args, 'references')),
              onDelete: named(relation.args, 'onDelete'),
            };
            model.relations.push(field);
          }
          continue;
        }
        model.fields.push(field);
        if (field.id) model.primaryKey = [name];
        if (field.unique)
          model.uniques.push({ fields: [name], name: unquote(named(attr('@unique')!.args, 'map')) });
      }
      return model;
    });
  return { models, enums };
}

// ---------------------------------------------------------------------------------------------
// Prisma types → Postgres' format_type() spelling

const SCALAR_DEFAULT: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'numeric(65,30)',
  Boolean: 'boolean',
  DateTime: 'timestamp(3) without time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
};

function nativeToPg(name: string, args: string[]): string {
  const a = args.join(',');
  switch (name) {
    case 'VarChar':
      return a ? `character varying(${a})` : 'character varying';
    case 'Char':
      return `character(${a || '1'})`;
    case 'Text':
      return 'text';
    case 'Uuid':
      return 'uuid';
    case 'Integer':
      return 'integer';
    case 'SmallInt':
      return 'smallint';
    case 'BigInt':
      return 'bigint';
    case 'Real':
      return 'real';
    case 'DoublePrecision':
      return 'double precision';
    case 'Decimal':
      return a ? `numeric(${a.replace(/\s/g, '')})` : 'numeric';
    case 'Money':
      return 'money';
    case 'Timestamptz':
      return `timestamp(${a || '6'}) with time zone`;
    case 'Timestamp':
      return `timestamp(${a || '6'}) without time zone`;
    case 'Date':
      return 'date';
    case 'Time':
      return `time(${a || '6'}) without time zone`;
    case 'Timetz':
      return `time(${a || '6'}) with time zone`;
    case 'Boolean':
      return 'boolean';
    case 'Json':
      return 'json';
    case 'JsonB':
      return 'jsonb';
    case 'ByteA':
      return 'bytea';
    case 'Inet':
      return 'inet';
    case 'Citext':
      return 'citext';
    default:
      return name.toLowerCase();
  }
}

/** Postgres prints the default precision of timestamps without it; Prisma's default is 6 when @db has none. */
const normaliseType = (type: string) =>
  type
    .replace(/^timestamp with time zone/, 'timestamp(6) with time zone')
    .replace(/^timestamp without time zone/, 'timestamp(6) without time zone')
    .replace(/^time without/, 'time(6) without')
    .replace(/"/g, '');

function expectedType(field: PrismaField, enums: PrismaEnum[]): string {
  const enumType = enums.find((e) => e.name === field.type);
  const base = enumType
    ? enumType.dbName
    : field.nativeType
      ? nativeToPg(field.nativeType.name, field.nativeType.args)
      : (SCALAR_DEFAULT[field.type] ?? `(unknown prisma type ${field.type})`);
  return normaliseType(field.list ? `${base}[]` : base);
}

/** What the database default should look like, as a predicate over `pg_get_expr` output (null: none). */
function defaultMatches(
  field: PrismaField,
  actual: string | null,
  identity: boolean,
): { ok: boolean; expected: string } {
  const spec = field.default;
  if (spec === undefined || /^(uuid|cuid|nanoid|ulid)\(/.test(spec)) {
    return { ok: actual === null && !identity, expected: 'no default' };
  }
  if (spec === 'autoincrement()')
    return { ok: identity || /^nextval\(/.test(actual ?? ''), expected: 'a sequence (serial or identity)' };
  if (spec === 'now()') return { ok: /^(now\(\)|CURRENT_TIMESTAMP)/i.test(actual ?? ''), expected: 'now()' };
  if (spec.startsWith('dbgenerated(')) {
    const inner = unquote(positional(spec.slice('dbgenerated('.length, -1)));
    return {
      ok: inner ? stripCast(actual) === stripCast(inner) : actual !== null,
      expected: inner ?? 'a database default',
    };
  }
  const literal = unquote(spec)!.replace(/\\"/g, '"');
  const enumLiteral = /^[A-Za-z_]\w*$/.test(spec) && !['true', 'false'].includes(spec);
  return { ok: stripCast(actual) === (enumLiteral ? spec : literal), expected: literal };
}

/** `'{}'::jsonb` → `{}`, `'x'::character varying` → `x`, `0` → `0`. */
function stripCast(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const uncast = value.replace(/::[\w\s."[\]()]+$/, '').trim();
  return uncast.replace(/^'(.*)'$/s, '$1').replace(/''/g, "'");
}

// ---------------------------------------------------------------------------------------------
// the database side

interface DbColumn {
  table: string;
  column: string;
  type: string;
  nullable: boolean;
  default: string | null;
  identity: boolean;
}

interface DbIndex {
  table: string;
  name: string;
  columns: string[];
  unique: boolean;
  primary: boolean;
  partial: boolean;
}

interface DbForeignKey {
  table: string;
  name: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
}

async function readCatalogue(client: Client, schema: string) {
  const columns = (
    await client.query<DbColumn>(
      `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
              NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS default,
              a.attidentity <> '' AS identity
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p') AND NOT c.relispartition
         JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = $1
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relname <> '_prisma_migrations'
        ORDER BY c.relname, a.attnum`,
      [schema],
    )
  ).rows;
  const indexes = (
    await client.query<DbIndex>(
      `SELECT t.relname AS table, i.relname AS name, ix.indisunique AS unique, ix.indisprimary AS primary,
              ix.indpred IS NOT NULL AS partial,
              ARRAY(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns
         FROM pg_index ix
         JOIN pg_class i ON i.oid = ix.indexrelid
         JOIN pg_class t ON t.oid = ix.indrelid AND NOT t.relispartition
         JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = $1
        WHERE t.relname <> '_prisma_migrations'`,
      [schema],
    )
  ).rows;
  const foreignKeys = (
    await client.query<DbForeignKey>(
      `SELECT t.relname AS table, con.conname AS name, r.relname AS "refTable",
              ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns,
              ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS "refColumns"
         FROM pg_constraint con
         JOIN pg_class t ON t.oid = con.conrelid
         JOIN pg_class r ON r.oid = con.confrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = $1
        WHERE con.contype = 'f'`,
      [schema],
    )
  ).rows;
  const enumLabels = (
    await client.query<{ name: string; labels: string[] }>(
      `SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
         JOIN pg_namespace n ON n.oid = t.typnamespace AND n.nspname = $1
        GROUP BY t.typname`,
      [schema],
    )
  ).rows;
  return { columns, indexes, foreignKeys, enumLabels };
}

// ---------------------------------------------------------------------------------------------
// the comparison

export interface DriftOptions {
  schemaPath: string;
  databaseUrl: string;
  /** Postgres schema the migrations built (default `public`). */
  dbSchema?: string;
  /** Database indexes that schema.prisma deliberately does not declare (partial indexes are always allowed). */
  ignoreIndexes?: string[];
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((value, i) => value === b[i]);

/** Every difference between schema.prisma and the migrated database, as readable lines (empty: none). */
export async function diffMigrationsAgainstSchema(options: DriftOptions): Promise<string[]> {
  const schema = parsePrismaSchema(readFileSync(options.schemaPath, 'utf8'));
  const client = new Client({ connectionString: options.databaseUrl });
  await client.connect();
  let catalogue: Awaited<ReturnType<typeof readCatalogue>>;
  try {
    catalogue = await readCatalogue(client, options.dbSchema ?? 'public');
  } finally {
    await client.end();
  }
  const problems: string[] = [];
  const modelByTable = new Map(schema.models.map((model) => [model.table, model]));
  const dbTables = new Set(catalogue.columns.map((column) => column.table));

  for (const table of dbTables) {
    if (!modelByTable.has(table))
      problems.push(`table ${table} exists in the database but no model maps to it`);
  }

  for (const model of schema.models) {
    const where = `${model.name} (${model.table})`;
    if (!dbTables.has(model.table)) {
      problems.push(`${where}: table is missing from the migrations`);
      continue;
    }
    const columns = catalogue.columns.filter((column) => column.table === model.table);
    const columnOf = (field: string) => model.fields.find((f) => f.name === field)?.column ?? field;

    for (const field of model.fields) {
      const column = columns.find((c) => c.column === field.column);
      const at = `${where}.${field.name} (${field.column})`;
      if (!column) {
        problems.push(`${at}: column is missing from the migrations`);
        continue;
      }
      const expected = expectedType(field, schema.enums);
      const actual = normaliseType(column.type);
      if (actual !== expected)
        problems.push(`${at}: type is ${actual} in the database, ${expected} in schema.prisma`);
      if (!field.list && column.nullable !== field.optional) {
        problems.push(
          `${at}: ${column.nullable ? 'nullable' : 'NOT NULL'} in the database, ${field.optional ? 'optional' : 'required'} in schema.prisma`,
        );
      }
      const def = defaultMatches(field, column.default, column.identity);
      if (!def.ok) {
        problems.push(
          `${at}: default is ${column.identity ? 'an identity' : (column.default ?? 'none')} in the database, ${def.expected} in schema.prisma`,
        );
      }
    }
    for (const column of columns) {
      if (!model.fields.some((field) => field.column === column.column)) {
        problems.push(`${where}: column ${column.column} exists in the database but not in schema.prisma`);
      }
    }

    const indexes = catalogue.indexes.filter((index) => index.table === model.table);
    const accounted = new Set<string>();
    const pk = indexes.find((index) => index.primary);
    const expectedPk = model.primaryKey.map(columnOf);
    if (!pk)
      problems.push(`${where}: no primary key in the database, (${expectedPk.join(', ')}) in schema.prisma`);
    else {
      accounted.add(pk.name);
      if (!sameList(pk.columns, expectedPk)) {
        problems.push(
          `${where}: primary key is (${pk.columns.join(', ')}) in the database, (${expectedPk.join(', ')}) in schema.prisma`,
        );
      }
    }
    for (const unique of model.uniques) {
      const cols = unique.fields.map(columnOf);
      const name = unique.name ?? `${model.table}_${cols.join('_')}_key`;
      const found = indexes.find((index) => index.unique && !index.primary && sameList(index.columns, cols));
      if (!found)
        problems.push(
          `${where}: unique (${cols.join(', ')}) is declared in schema.prisma but missing from the database`,
        );
      else {
        accounted.add(found.name);
        if (found.name !== name)
          problems.push(
            `${where}: unique (${cols.join(', ')}) is named ${found.name} in the database, ${name} in schema.prisma`,
          );
      }
    }
    for (const declared of model.indexes) {
      const cols = declared.fields.map(columnOf);
      const name = declared.name ?? `${model.table}_${cols.join('_')}_idx`;
      const found = indexes.find((index) => !index.partial && !index.unique && sameList(index.columns, cols));
      if (!found)
        problems.push(
          `${where}: index (${cols.join(', ')}) is declared in schema.prisma but missing from the database`,
        );
      else {
        accounted.add(found.name);
        if (found.name !== name)
          problems.push(
            `${where}: index (${cols.join(', ')}) is named ${found.name} in the database, ${name} in schema.prisma`,
          );
      }
    }
    for (const index of indexes) {
      if (accounted.has(index.name) || index.partial || options.ignoreIndexes?.includes(index.name)) continue;
      problems.push(
        `${where}: index ${index.name} (${index.columns.join(', ')}) exists in the database but not in schema.prisma`,
      );
    }

    const foreignKeys = catalogue.foreignKeys.filter((fk) => fk.table === model.table);
    const matchedFks = new Set<string>();
    for (const relation of model.relations) {
      const target = schema.models.find((m) => m.name === relation.type)!;
      const cols = relation.relation!.fields.map(columnOf);
      const refCols = relation.relation!.references.map(
        (f) => target.fields.find((tf) => tf.name === f)?.column ?? f,
      );
      const found = foreignKeys.find(
        (fk) =>
          fk.refTable === target.table && sameList(fk.columns, cols) && sameList(fk.refColumns, refCols),
      );
      if (!found)
        problems.push(
          `${where}.${relation.name}: foreign key (${cols.join(', ')}) → ${target.table}(${refCols.join(', ')}) is missing from the database`,
        );
      else matchedFks.add(found.name);
    }
    for (const fk of foreignKeys) {
      if (!matchedFks.has(fk.name)) {
        problems.push(
          `${where}: foreign key ${fk.name} (${fk.columns.join(', ')}) → ${fk.refTable} exists in the database but no @relation declares it`,
        );
      }
    }
  }

  for (const declared of schema.enums) {
    const found = catalogue.enumLabels.find((e) => e.name === declared.dbName);
    if (!found) problems.push(`enum ${declared.name} (${declared.dbName}) is missing from the database`);
    else if (!sameList(found.labels, declared.values)) {
      problems.push(
        `enum ${declared.name}: values are [${found.labels.join(', ')}] in the database, [${declared.values.join(', ')}] in schema.prisma`,
      );
    }
  }
  return problems;
}

/** Throws one error listing every difference between schema.prisma and the migrated database. */
export async function assertMigrationsMatchSchema(options: DriftOptions): Promise<void> {
  const problems = await diffMigrationsAgainstSchema(options);
  if (problems.length) {
    throw new Error(
      `The migrations do not build what ${options.schemaPath} declares:\n  - ${problems.join('\n  - ')}`,
    );
  }
}
