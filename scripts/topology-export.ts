/**
 * `npm run topology:export` — writes rabbitmq/definitions.json (preloaded by docker-compose) from
 * the contracts' queues and the platform's own `declareTopology`. `--check` only compares and
 * exits 1 when the checked-in file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderDefinitions } from '@shop/platform/tools';

const FILE = join(__dirname, '..', 'rabbitmq', 'definitions.json');

async function main(): Promise<void> {
  const rendered = await renderDefinitions();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(FILE, 'utf8');
    } catch {
      // a missing file is stale too
    }
    if (current !== rendered) {
      console.error('rabbitmq/definitions.json is stale; regenerate it with: npm run topology:export');
      process.exit(1);
    }
    console.log('rabbitmq/definitions.json is up to date');
    return;
  }
  writeFileSync(FILE, rendered);
  console.log(`wrote ${FILE}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
