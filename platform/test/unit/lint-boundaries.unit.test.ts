import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The package boundaries in eslint.config.mjs, proved to bite: each snippet is linted as if it were
 * a file in that zone, with the repository's own config. ESLint loads that config with a dynamic
 * import(), which jest's module sandbox does not support, so the linting runs in one child process.
 */
const ROOT = join(__dirname, '../../..');

interface Snippet {
  file: string;
  code: string;
}

const LINT = `
const { ESLint } = require('eslint');
let input = '';
process.stdin.on('data', (chunk) => (input += chunk)).on('end', async () => {
  const eslint = new ESLint({ cwd: process.cwd() });
  const verdicts = [];
  for (const { file, code } of JSON.parse(input)) {
    const [result] = await eslint.lintText(code, { filePath: file });
    verdicts.push(result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message));
  }
  process.stdout.write(JSON.stringify(verdicts));
});
`;

const refused: [string, Snippet, RegExp][] = [
  [
    'contracts import @shop/platform',
    { file: 'contracts/src/orders.ts', code: "import { createLogger } from '@shop/platform';" },
    /contracts import nothing of ours/,
  ],
  [
    'contracts reach into a service by path',
    {
      file: 'contracts/src/orders.ts',
      code: "import type { Config } from '../../order-service/src/config';",
    },
    /contracts import nothing of ours/,
  ],
  [
    'the platform imports a service',
    { file: 'platform/src/health.ts', code: "import { configShape } from '@shop/order-service';" },
    /the platform imports only @shop\/contracts/,
  ],
  [
    'the platform reaches into the gateway by path',
    { file: 'platform/src/http/app.ts', code: "import { upstreamsOf } from '../../../gateway/src/config';" },
    /the platform imports only @shop\/contracts/,
  ],
  [
    'the platform runtime loads an operator tool',
    { file: 'platform/src/messaging/consumer.ts', code: "import { listDeadLetters } from '../tools/dlq';" },
    /never loads the operator tools/,
  ],
  [
    'the platform barrel re-exports the test helpers',
    { file: 'platform/src/index.ts', code: "export * from './testing';" },
    /never loads the operator tools or the test helpers/,
  ],
  [
    'a service imports another service',
    { file: 'product-service/src/server.ts', code: "import { start } from '@shop/order-service';" },
    /product-service imports no other service/,
  ],
  [
    'a service reaches into another by path',
    {
      file: 'notification-service/src/app.ts',
      code: "import { orders } from '../../order-service/src/db/orders';",
    },
    /notification-service imports no other service/,
  ],
  [
    'the gateway imports a service',
    { file: 'gateway/src/app.ts', code: "import { configShape } from '@shop/notification-service';" },
    /gateway imports no other service/,
  ],
  [
    'a service loads the operator tools',
    { file: 'order-service/src/server.ts', code: "import { tailExchange } from '@shop/platform/tools';" },
    /a service never loads the operator tools/,
  ],
  [
    'domain/ imports its db/',
    { file: 'order-service/src/domain/pricing.ts', code: "import { lockOrder } from '../db/orders';" },
    /domain\/ holds rules with no I\/O/,
  ],
  [
    'domain/ imports its http/',
    { file: 'order-service/src/domain/pricing.ts', code: "import { routes } from '../http/routes';" },
    /domain\/ holds rules with no I\/O/,
  ],
  [
    'domain/ imports its messaging/',
    {
      file: 'product-service/src/domain/reserve-stock.ts',
      code: "import { handlers } from '../messaging/handlers';",
    },
    /domain\/ holds rules with no I\/O/,
  ],
  [
    'domain/ imports its http-clients/',
    {
      file: 'order-service/src/domain/stock-check.ts',
      code: "import { createProductClient } from '../http-clients/product-client';",
    },
    /domain\/ holds rules with no I\/O/,
  ],
  [
    'domain/ imports pg',
    { file: 'order-service/src/domain/pricing.ts', code: "import type { PoolClient } from 'pg';" },
    /no database, broker or HTTP library/,
  ],
  [
    'domain/ imports Kysely',
    { file: 'order-service/src/domain/pricing.ts', code: "import type { Kysely } from 'kysely';" },
    /no database, broker or HTTP library/,
  ],
  [
    'domain/ imports Prisma',
    {
      file: 'notification-service/src/domain/notification-message.ts',
      code: "import { PrismaClient } from '@prisma/client';",
    },
    /no database, broker or HTTP library/,
  ],
  [
    'domain/ imports amqplib',
    { file: 'order-service/src/domain/pricing.ts', code: "import { connect } from 'amqplib';" },
    /no database, broker or HTTP library/,
  ],
  [
    'domain/ imports amqp-connection-manager',
    {
      file: 'order-service/src/domain/pricing.ts',
      code: "import { connect } from 'amqp-connection-manager';",
    },
    /no database, broker or HTTP library/,
  ],
  [
    'domain/ imports express',
    { file: 'order-service/src/domain/pricing.ts', code: "import type { Request } from 'express';" },
    /no database, broker or HTTP library/,
  ],
  [
    'domain/ imports axios',
    { file: 'order-service/src/domain/pricing.ts', code: "import axios from 'axios';" },
    /no database, broker or HTTP library/,
  ],
  [
    'domain/ imports another service',
    {
      file: 'order-service/src/domain/pricing.ts',
      code: "import { reserveStock } from '@shop/product-service';",
    },
    /order-service imports no other service/,
  ],
];

const allowed: [string, Snippet][] = [
  ['contracts import zod', { file: 'contracts/src/orders.ts', code: "import { z } from 'zod';" }],
  [
    'the platform imports contracts',
    { file: 'platform/src/health.ts', code: "import { QUEUES } from '@shop/contracts';" },
  ],
  [
    'an operator tool imports the platform runtime',
    { file: 'platform/src/tools/dlq.ts', code: "import { declareTopology } from '../messaging/topology';" },
  ],
  [
    'a service imports the platform and contracts',
    {
      file: 'order-service/src/server.ts',
      code: "import { createLogger } from '@shop/platform';\nimport { QUEUES } from '@shop/contracts';",
    },
  ],
  [
    'a service imports its own db/',
    { file: 'order-service/src/use-cases/place-order.ts', code: "import { lockOrder } from '../db/orders';" },
  ],
  [
    'domain/ imports contracts, its neighbours and decimal.js',
    {
      file: 'order-service/src/domain/pricing.ts',
      code: "import type { OrderStatus } from '@shop/contracts';\nimport { canTransition } from './order-status';\nimport Decimal from 'decimal.js';",
    },
  ],
];

function lint(snippets: Snippet[]): string[][] {
  const run = spawnSync(process.execPath, ['-e', LINT], {
    cwd: ROOT,
    input: JSON.stringify(snippets),
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`eslint failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as string[][];
}

describe('package boundaries (eslint.config.mjs)', () => {
  let verdicts: string[][];

  beforeAll(() => {
    verdicts = lint([...refused.map(([, snippet]) => snippet), ...allowed.map(([, snippet]) => snippet)]);
  });

  it.each(refused.map(([name, snippet, reason], index) => ({ name, snippet, reason, index })))(
    'lint fails when $name',
    ({ reason, index }) => {
      const messages = verdicts[index];

      expect(messages).toEqual([expect.stringMatching(reason)]);
    },
  );

  it.each(allowed.map(([name, snippet], index) => ({ name, snippet, index: refused.length + index })))(
    'lint passes when $name',
    ({ index }) => {
      const messages = verdicts[index];

      expect(messages).toEqual([]);
    },
  );
});
