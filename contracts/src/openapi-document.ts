import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The parts of an OpenAPI document its readers here rely on. */
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  [member: string]: unknown;
}

/** This file runs from src/ (tests, tsx) or from dist/src/ (built); the package root is above either. */
function packageRoot(dir = __dirname): string {
  if (existsSync(path.join(dir, 'package.json'))) return dir;
  if (path.dirname(dir) === dir) throw new Error(`@shop/contracts: no package.json above ${__dirname}`);
  return packageRoot(path.dirname(dir));
}

/**
 * The OpenAPI document as committed: contracts/openapi.json, which `npm run docs:generate`
 * writes from these schemas (contracts/tools) and a test keeps fresh. Read, not built, so the
 * gateway serves exactly the checked-in document and no service loads the generator.
 */
export const readOpenApiDocument = (): OpenApiDocument =>
  JSON.parse(readFileSync(path.join(packageRoot(), 'openapi.json'), 'utf8')) as OpenApiDocument;
