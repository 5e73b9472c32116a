/**
 * Writes the generated contract documents: contracts/openapi.json, contracts/asyncapi.yaml and
 * the event payload snapshots in contracts/test/event-schemas/ (a new version's snapshot is
 * recorded; an additive change refreshes it; a breaking change without a version bump stops here).
 *
 *   tsx scripts/generate-docs.ts          write them
 *   tsx scripts/generate-docs.ts --check  exit 1 if any is stale (writes nothing)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EVENT_SCHEMA_VERSION, EVENT_TYPES } from '../contracts/src';
import { eventDataJsonSchema, eventSnapshotFile, judgeEventSchema, renderAsyncApiYaml, renderOpenApiJson } from '../contracts/tools';

const contracts = path.join(__dirname, '..', 'contracts');
const check = process.argv.includes('--check');
const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

const outputs: { file: string; text: string }[] = [
  { file: path.join(contracts, 'openapi.json'), text: renderOpenApiJson() },
  { file: path.join(contracts, 'asyncapi.yaml'), text: renderAsyncApiYaml() },
];
const errors: string[] = [];

for (const type of EVENT_TYPES) {
  const version = EVENT_SCHEMA_VERSION[type];
  const file = path.join(contracts, 'test', 'event-schemas', eventSnapshotFile(type, version));
  const current = eventDataJsonSchema(type);
  const snapshot = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  const verdict = judgeEventSchema(`${type} v${version}`, current, snapshot);
  if (verdict.status === 'breaking') errors.push(verdict.detail);
  else outputs.push({ file, text: json(current) });
}

const stale = outputs.filter(({ file, text }) => !existsSync(file) || readFileSync(file, 'utf8') !== text);
const relative = (file: string) => path.relative(process.cwd(), file);

if (errors.length) {
  for (const error of errors) console.error(`✗ ${error}`);
  process.exit(1);
}
if (check) {
  for (const { file } of stale) console.error(`✗ stale: ${relative(file)}`);
  if (stale.length) console.error('Run `npm run docs:generate` and commit the result.');
  process.exit(stale.length ? 1 : 0);
}
for (const { file, text } of stale) {
  writeFileSync(file, text);
  console.log(`wrote ${relative(file)}`);
}
if (!stale.length) console.log('contract documents are up to date');
