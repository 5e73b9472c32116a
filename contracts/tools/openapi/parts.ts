// The pieces the route table (routes.ts) is written with, in zod-to-openapi's own terms.
import type { ResponseConfig, ZodMediaTypeObject, ZodRequestBody } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { DEFAULT_PAGE_SIZE, ErrorCode, MAX_PAGE_SIZE, Problem } from '../../src/common';
import { MAX_IDS_PER_LOOKUP } from '../../src/products';
import { PROBLEM_EXAMPLES, type ProblemExampleName } from '../examples';

type Examples = ZodMediaTypeObject['examples'];
type ComponentType = 'examples' | 'headers' | 'parameters' | 'responses' | 'schemas';

export const ref = (type: ComponentType, name: string) => ({ $ref: `#/components/${type}/${name}` });

export const one = (summary: string, value: unknown): Examples => ({ default: { summary, value } });

export const HEADERS = {
  'X-Request-Id': {
    description:
      'The request id (the caller’s X-Request-Id if it was safe, otherwise a new UUID); every log line of the request carries it.',
    schema: { type: 'string' },
  },
  Location: {
    description: 'The URL path of the created resource.',
    schema: { type: 'string' },
    example: '/api/v1/orders/1',
  },
  'Idempotent-Replayed': {
    description:
      'Present and `true` when this is the stored first answer to the same Idempotency-Key and body.',
    schema: { type: 'string', const: 'true' },
  },
  'Retry-After': {
    description: 'Seconds to wait before trying again.',
    schema: { type: 'string', pattern: '^\\d+$' },
    example: '1',
  },
  'WWW-Authenticate': {
    description: 'The Bearer challenge.',
    schema: { type: 'string' },
    example: 'Bearer error="invalid_token"',
  },
  Allow: {
    description: 'The methods this path does answer.',
    schema: { type: 'string' },
    example: 'GET, HEAD, POST',
  },
} as const;
type HeaderName = keyof typeof HEADERS;

/** Every answer carries X-Request-Id. */
export const headerRefs = (names: HeaderName[] = []) =>
  Object.fromEntries(['X-Request-Id', ...names].map((name) => [name, ref('headers', name)]));

/** A JSON answer: a contract schema (or, for a document, a plain one) and its examples. */
export const json = (
  description: string,
  schema: ZodMediaTypeObject['schema'],
  examples?: Examples,
  headers?: HeaderName[],
): ResponseConfig => ({
  description,
  headers: headerRefs(headers),
  content: { 'application/json': { schema, examples } },
});

export const text = (description: string, mediaType: string, examples?: Examples): ResponseConfig => ({
  description,
  headers: headerRefs(),
  content: { [mediaType]: { schema: { type: 'string' }, examples } },
});

export const jsonBody = (schema: z.ZodType, example: unknown): ZodRequestBody => ({
  required: true,
  content: {
    'application/json': { schema, examples: { default: { summary: 'Seed scenario', value: example } } },
  },
});

/** What a query or path schema cannot say: query values are strings until parsed (so are their defaults). */
const PARAMETER_NOTES: Record<string, { description: string; example?: string; default?: string }> = {
  id: { description: 'A positive integer id.', example: '1' },
  limit: {
    description: `Page size, 1–${MAX_PAGE_SIZE}.`,
    example: String(DEFAULT_PAGE_SIZE),
    default: String(DEFAULT_PAGE_SIZE),
  },
  offset: { description: 'How many items to skip.', example: '0', default: '0' },
  ids: { description: `Comma-separated product ids, at most ${MAX_IDS_PER_LOOKUP}.`, example: '1,2' },
  status: { description: 'Only orders in this status.' },
  user_id: { description: 'Admins only: only this user’s orders (ignored for other users).', example: '42' },
  order_id: { description: 'Only notifications about this order.', example: '1' },
  type: { description: 'Only notifications of this event type.' },
};

/** A contract's path or query object, each field with its parameter's description and example. */
export const described = (parameters: z.ZodObject) =>
  z.object(
    Object.fromEntries(
      Object.entries(parameters.shape).map(([name, field]) => {
        const { default: fallback, ...param } = PARAMETER_NOTES[name];
        return [name, field.meta({ param, default: fallback })];
      }),
    ),
  );

/** The headers a problem of a status carries besides X-Request-Id. */
const PROBLEM_HEADERS: Partial<Record<number, HeaderName[]>> = {
  401: ['WWW-Authenticate'],
  405: ['Allow'],
  409: ['Retry-After'],
  429: ['Retry-After'],
  503: ['Retry-After'],
};

/** One response per status: the Problem schema narrowed to that status and its codes, one example per problem. */
export function problems(...names: ProblemExampleName[]): Record<number, ResponseConfig> {
  const byStatus = new Map<number, ProblemExampleName[]>();
  for (const name of names) {
    const { status } = PROBLEM_EXAMPLES[name].value;
    byStatus.set(status, [...(byStatus.get(status) ?? []), name]);
  }
  return Object.fromEntries([...byStatus].map(([status, group]) => [status, problemResponse(status, group)]));
}

function problemResponse(status: number, names: ProblemExampleName[]): ResponseConfig {
  const codes = [...new Set(names.map((name) => ErrorCode.parse(PROBLEM_EXAMPLES[name].value.code)))];
  return {
    description: names
      .map((name) => `\`${PROBLEM_EXAMPLES[name].value.code}\`: ${PROBLEM_EXAMPLES[name].summary}.`)
      .join(' '),
    headers: headerRefs(PROBLEM_HEADERS[status]),
    content: {
      'application/problem+json': {
        schema: z.intersection(
          Problem,
          z.object({ status: z.literal(status), code: ErrorCode.extract(codes) }),
        ),
        examples: Object.fromEntries(names.map((name) => [name, ref('examples', name)])),
      },
    },
  };
}
