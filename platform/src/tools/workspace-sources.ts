import { existsSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';

/**
 * Imported first by the TypeScript CLIs in scripts/ (run with tsx): makes `@shop/<pkg>` resolve to
 * `<pkg>/src` instead of the package's compiled `dist`, as jest does. So `npm run dlq`, `tail` and
 * `topology:export` need no prior build, and the export is always generated from the current
 * contracts rather than from a stale build. Does nothing when running compiled JavaScript.
 */
type ResolveFilename = (request: string, ...rest: unknown[]) => string;

if (__filename.endsWith('.ts')) {
  const root = join(__dirname, '..', '..', '..');
  const loader = Module as unknown as { _resolveFilename: ResolveFilename };
  const resolve = loader._resolveFilename;
  loader._resolveFilename = function (request: string, ...rest: unknown[]) {
    const match = /^@shop\/([a-z-]+)(?:\/(.+))?$/.exec(request);
    if (match) {
      const base = join(root, match[1], 'src', match[2] ?? 'index');
      for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) {
        if (existsSync(candidate)) return candidate;
      }
    }
    return resolve.call(this, request, ...rest);
  };
}
