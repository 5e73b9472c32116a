/**
 * The contract documents, built from the zod schemas at build time (`npm run docs:generate`):
 * never imported by the runtime barrel (src/index.ts), so no service loads them or their
 * generator libraries.
 */
export { buildOpenApiDocument, API_VERSION } from './openapi/document';
export { buildAsyncApiDocument, eventDataJsonSchema, messagesOfQueue, topicMatches } from './asyncapi';
export { renderAsyncApiYaml, renderOpenApiJson, DOCS_COMMAND } from './render';
export { breakingChanges, eventSnapshotFile, judgeEventSchema, type SnapshotVerdict } from './schema-compat';
export { jsonSchemaOf, type JsonSchema } from './json-schema';
