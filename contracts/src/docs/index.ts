export { buildOpenApiDocument, OPENAPI_ROUTES, toExpressPath, toOpenApiPath, API_VERSION, type DocumentedRoute } from './openapi';
export { buildAsyncApiDocument, eventDataJsonSchema, messagesOfQueue, topicMatches } from './asyncapi';
export { renderAsyncApiYaml, renderOpenApiJson, DOCS_COMMAND } from './render';
export { breakingChanges, eventSnapshotFile, judgeEventSchema, type SnapshotVerdict } from './schema-compat';
export { jsonSchemaOf, type JsonSchema } from './json-schema';
