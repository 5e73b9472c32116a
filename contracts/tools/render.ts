import { stringify } from 'yaml';
import { buildAsyncApiDocument } from './asyncapi';
import { buildOpenApiDocument } from './openapi/document';

/**
 * The exact text of the checked-in documents (contracts/openapi.json, contracts/asyncapi.yaml),
 * shared by the generator and by the test that fails when they are stale.
 */
export const renderOpenApiJson = () => `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;

// No anchors/aliases (shared example objects must be written out in full) and no line folding.
export const renderAsyncApiYaml = () => stringify(buildAsyncApiDocument(), { aliasDuplicateObjects: false, lineWidth: 0 });

export const DOCS_COMMAND = 'npm run docs:generate';
