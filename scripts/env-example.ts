/**
 * `npm run env:example` writes .env.example from the services' zod config shapes (every key, its
 * default and its description), so the file cannot fall behind the code; `--check` only compares
 * (a test runs the same comparison).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderEnvExample } from '../e2e/test/support/env-example';

const file = join(__dirname, '..', '.env.example');
const expected = renderEnvExample();
if (process.argv.includes('--check')) {
  if (readFileSync(file, 'utf8') !== expected) {
    console.error('.env.example is stale: run `npm run env:example` and commit it.');
    process.exit(1);
  }
} else {
  writeFileSync(file, expected);
  console.log('wrote .env.example');
}
