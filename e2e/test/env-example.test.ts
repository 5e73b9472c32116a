import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderEnvExample } from './support/env-example';

it('.env.example lists every configuration key of every service with its default (npm run env:example)', () => {
  const checkedIn = readFileSync(join(__dirname, '../../.env.example'), 'utf8');

  expect(checkedIn).toBe(renderEnvExample());
});
