import { z } from 'zod';

/** Money travels as a decimal string with exactly two places, e.g. "205.48" — never a float. */
export const Money = z.string().regex(/^-?\d+\.\d{2}$/, 'must be a decimal string with two places, e.g. "25.99"');
export type Money = z.infer<typeof Money>;

/** Ids of orders, items and products are positive integers (as in the original service). */
export const Id = z.number().int().positive().max(2_147_483_647);

/** A path parameter such as `/orders/{id}`: digits only, within Postgres' int range. */
export const IdParam = z.object({
  id: z
    .string()
    .regex(/^[1-9]\d{0,9}$/, 'must be a positive integer')
    .transform(Number)
    .pipe(Id),
});

export const Timestamp = z.iso.datetime({ offset: true });

/**
 * Free text a client sends (names, descriptions, reasons). Postgres refuses a NUL in text (the
 * insert fails: "invalid byte sequence for encoding UTF8: 0x00") and turns an unpaired UTF-16
 * surrogate into U+FFFD without a word; both are refused here instead, as 422 at the field's path.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
export const Text = z
  .string()
  .refine((value) => !value.includes('\u0000'), 'must not contain NUL (\\u0000) characters')
  .refine((value) => !LONE_SURROGATE.test(value), 'must not contain unpaired UTF-16 surrogates');

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

const queryInt = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a non-negative integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(fallback);

export const PageQuery = z.object({
  limit: queryInt(1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE),
  offset: queryInt(0, 1_000_000_000, 0),
});

/** `{items, total, limit, offset}`: the one list envelope every collection uses. */
export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    total: z.number().int().nonnegative(),
    limit: z.number().int().positive(),
    offset: z.number().int().nonnegative(),
  });

/** RFC 9457 problem details, with the stable `code` clients switch on. */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  instance: z.string().optional(),
  request_id: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof Problem>;

/** The problem document's `title` for each status Shop answers with. */
export const PROBLEM_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export const ErrorCode = z.enum([
  'product_not_found',
  'insufficient_stock',
  'order_not_found',
  'invalid_status_transition',
  'validation_error',
  'malformed_json',
  'bad_request',
  'payload_too_large',
  'unauthorized',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'headers_too_large',
  'request_timeout',
  'rate_limited',
  'product_service_unavailable',
  'product_service_timeout',
  'idempotency_key_reused',
  'idempotency_request_in_flight',
  'unsupported_media_type',
  'internal_error',
  'service_unavailable',
  'service_timeout',
  'database_unavailable',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;
