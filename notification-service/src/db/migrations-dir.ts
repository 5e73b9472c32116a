import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The package's prisma/migrations, found by walking up from this file, so it resolves the same
 * from src/db (ts, tests) and from dist/src/db (compiled).
 */
export function migrationsDir(from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'prisma', 'migrations');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`no prisma/migrations above ${from}`);
  }
}
