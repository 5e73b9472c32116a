#!/usr/bin/env node
/**
 * `prisma generate` for the current workspace, offline: the schema's one generator,
 * prisma-kysely, writes the Kysely table types the service queries with (src/generated/).
 *
 * Prisma 7's CLI refuses to start unless it finds a schema-engine file, although `generate`
 * never runs it, and the engine cannot be downloaded on our machines (docs/decisions.md).
 * Any existing file satisfies the check.
 */
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY || !existsSync(env.PRISMA_SCHEMA_ENGINE_BINARY)) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
}
const result = spawnSync('npx', ['--no-install', 'prisma', 'generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
