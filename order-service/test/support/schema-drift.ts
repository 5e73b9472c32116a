import path from 'node:path';

/**
 * The migrations-vs-schema check lives (for now) in the product service's test support; the lead
 * plans to move it to `@shop/platform/testing`. Until then it is loaded by path at run time, because
 * a static import from another package's test folder breaks this package's `tsc -b` (rootDir).
 * TODO: import { assertMigrationsMatchSchema } from '@shop/platform/testing' once it is there.
 */
export type AssertMigrationsMatchSchema = (options: {
  schemaPath: string;
  databaseUrl: string;
  ignoreIndexes?: string[];
}) => Promise<void>;

export function loadSchemaDriftCheck(): AssertMigrationsMatchSchema {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(path.join(__dirname, '../../../product-service/test/support/schema-drift')) as {
    assertMigrationsMatchSchema: AssertMigrationsMatchSchema;
  };
  return module.assertMigrationsMatchSchema;
}
