import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { ErrorCode, Problem } from '@shop/contracts';
import { sendRaw, type RawRequest, type RawResponse } from './support/raw-http';
import { startSystem, type RunningSystem } from './support/system';

/**
 * Property: whatever a client sends to any route of the OpenAPI document — odd paths, query
 * strings, headers, encodings and bodies, with or without a token — the answer is never a 5xx, and
 * every 4xx is an RFC 9457 problem+json with a known code. Requests go through the real gateway to
 * the real services, databases and broker; nothing is taken down, so a 503/504 is a failure too.
 *
 * FUZZ_SEED=<n> replays a run (fast-check prints the seed and the shrunk request on failure);
 * FUZZ_RUNS=<n> sends more or fewer requests (default 1000).
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Route {
  method: string;
  /** OpenAPI form, e.g. `/api/v1/orders/{id}/status`. */
  template: string;
  query: string[];
  bodyExample?: unknown;
  /** The top-level fields of the request body's schema; `text` for free-text strings (not enums). */
  fields: { name: string; text: boolean }[];
}

const document = JSON.parse(
  readFileSync(path.join(__dirname, '../../contracts/openapi.json'), 'utf8'),
) as Json;
const ROUTES: Route[] = Object.entries(document.paths as Json).flatMap(([template, operations]) =>
  Object.entries(operations as Json).map(([method, operation]) => ({
    method: method.toUpperCase(),
    template,
    query: ((operation.parameters ?? []) as Json[])
      .filter((p) => p.in === 'query')
      .map((p) => p.name as string),
    bodyExample: operation.requestBody?.content?.['application/json']?.examples?.default?.value,
    fields: fieldsOf(operation.requestBody?.content?.['application/json']?.schema),
  })),
);

function fieldsOf(schema: Json | undefined): Route['fields'] {
  const resolved = schema?.$ref
    ? (document.components.schemas[String(schema.$ref).split('/').pop()!] as Json)
    : schema;
  // A nullable string is `type: ['string', 'null']`; a string-or-number is `anyOf`.
  const isText = (property: Json): boolean =>
    ([property.type].flat().includes('string') && !property.enum) ||
    ((property.anyOf ?? []) as Json[]).some(isText);
  return Object.entries((resolved?.properties ?? {}) as Json).map(([name, property]) => ({
    name,
    text: isText(property as Json),
  }));
}

// --- generators -------------------------------------------------------------------------------
//
// A request starts as one a client would rightly send to the route (its method, a valid id, its
// token, its example body as JSON) and then gets one to three twists: a hostile field value, an
// odd id, query, method, header, encoding or body. One thing wrong at a time reaches the code
// behind the checks that a wholly random request would fail first.

/** Text a database or a decoder may choke on: NUL, unpaired surrogates, escapes, long runs. */
const hostileText = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '\u0000',
      'a\u0000b',
      '\ud800',
      'x\udfffy',
      '\udc00\ud800',
      '\uffff',
      '%ff',
      '',
      ' ',
      '\\',
      "'; drop table x; --",
      'x'.repeat(3000),
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.string({ maxLength: 8 }),
        fc.constantFrom('\u0000', '\ud83d', '\ude00'),
        fc.string({ maxLength: 8 }),
      )
      .map((parts) => parts.join('')),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileText,
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 2_147_483_647, 2_147_483_648, 2 ** 53 + 2, 1e308, 1.5, null, true, false, [], {}),
  fc.jsonValue({ maxDepth: 2 }),
);

/** The paths of every node of a JSON value, so a twist can aim at a real field. */
function nodesOf(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return [at, ...value.flatMap((item, index) => nodesOf(item, [...at, index]))];
  if (value && typeof value === 'object')
    return [at, ...Object.entries(value).flatMap(([key, item]) => nodesOf(item, [...at, key]))];
  return [at];
}

function replaceAt(value: unknown, at: (string | number)[], replacement: unknown): unknown {
  if (at.length === 0) return replacement;
  const copy = structuredClone(value) as Json;
  let node = copy;
  for (const key of at.slice(0, -1)) node = node?.[key];
  // An earlier twist may have replaced the branch this one aims at: then there is nothing to change.
  if (node === null || typeof node !== 'object') return copy;
  node[at[at.length - 1]] = replacement;
  return copy;
}

const idSegment = fc.oneof(
  fc.constantFrom(
    '2',
    '3',
    '999999',
    '0',
    '-1',
    '01',
    '1.5',
    '1e3',
    '2147483647',
    '2147483648',
    '99999999999999999999999',
  ),
  fc.constantFrom('%ff', '%', '%zz', '%c3%28', '%00', '%2F', '%e2%82', '..', 'health', 'null', '%20', 'abc'),
  fc.string({ maxLength: 10 }).map(encodeURIComponent),
);
const pathSuffix = fc.constantFrom('/', '/%ff', '/x', '//', '/../products/1', '/%2e%2e', '/1/2');
const queryValue = fc.oneof(
  fc.constantFrom(
    '1',
    '0',
    '-1',
    '20',
    '100',
    '101',
    '1,2',
    '1,,2',
    'pending',
    'OrderCreated',
    '2147483648',
    '',
    '%ff',
    '%',
    '1e3',
  ),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);
const anyMethod = fc.constantFrom(
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'TRACE',
  'PROPFIND',
);
const contentType = fc.constantFrom(
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=bogus',
  'application/json; charset',
  'application/json;;',
  'application/merge-patch+json',
  'text/plain',
  'multipart/form-data; boundary=x',
  '*/*',
  '',
);

interface Draft {
  method: string;
  id: string;
  suffix: string;
  query: [string, string][];
  headers: Record<string, string>;
  body: unknown;
  /** Bytes sent instead of the JSON body. */
  raw?: Buffer;
  encoding?: 'gzip' | 'gzip-garbage' | 'deflate' | 'br' | 'compress' | 'identity' | 'gzip, gzip';
  chunked: boolean;
}

type Twist = (draft: Draft) => Draft;

function twistsFor(route: Route, tokens: string[]): fc.Arbitrary<Twist> {
  const example = route.bodyExample ?? { items: [{ product_id: 1, quantity: 1 }] };
  const nodes = nodesOf(example);
  const header =
    (name: string, value: string | undefined): Twist =>
    (d) => {
      const headers = { ...d.headers };
      if (value === undefined) delete headers[name];
      else headers[name] = value;
      return { ...d, headers };
    };
  const auth = fc.constantFrom(
    undefined,
    ...tokens.map((t) => `Bearer ${t}`),
    'Bearer',
    'Bearer x.y.z',
    'Basic YTpi',
    `Bearer ${tokens[0]}x`,
  );
  const fieldTwists = route.fields.length
    ? [
        {
          weight: 8,
          arbitrary: fc
            .constantFrom(...route.fields)
            .chain((field) => fc.tuple(fc.constant(field.name), field.text ? hostileText : hostileValue))
            .map(([name, value]): Twist => (d) => ({
              ...d,
              body: { ...((d.body ?? example) as Json), [name]: value },
            })),
        },
      ]
    : [];
  return fc.oneof(
    // Hostile values in the fields the body's schema names, free text getting hostile text.
    ...fieldTwists,
    // Hostile values anywhere in the example body.
    {
      weight: route.bodyExample === undefined ? 1 : 8,
      arbitrary: fc
        .tuple(fc.constantFrom(...nodes), hostileValue)
        .map(([at, value]): Twist => (d) => ({ ...d, body: replaceAt(d.body ?? example, at, value) })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(hostileText, hostileValue).map(([key, value]): Twist => (d) => ({
        ...d,
        body: { ...((d.body ?? example) as Json), [key]: value },
      })),
    },
    {
      weight: 1,
      arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value): Twist => (d) => ({ ...d, body: value })),
    },
    { weight: 1, arbitrary: fc.constant<Twist>((d) => ({ ...d, body: undefined })) },
    {
      weight: 1,
      arbitrary: fc
        .oneof(
          fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
          fc
            .constantFrom('{"items": [', '{', 'null', '"\\ud800"', '1e99999')
            .map((text) => Buffer.from(text)),
        )
        .map((raw): Twist => (d) => ({ ...d, raw })),
    },
    { weight: 2, arbitrary: idSegment.map((id): Twist => (d) => ({ ...d, id })) },
    { weight: 1, arbitrary: pathSuffix.map((suffix): Twist => (d) => ({ ...d, suffix })) },
    {
      weight: 2,
      arbitrary: fc
        .array(
          fc.tuple(
            fc.constantFrom(...route.query, 'user_id', 'status', '%ff', 'a[b]', '__proto__'),
            queryValue,
          ),
          { minLength: 1, maxLength: 4 },
        )
        .map((query): Twist => (d) => ({ ...d, query })),
    },
    { weight: 2, arbitrary: anyMethod.map((method): Twist => (d) => ({ ...d, method })) },
    { weight: 2, arbitrary: auth.map((value) => header('Authorization', value)) },
    { weight: 2, arbitrary: contentType.map((value) => header('Content-Type', value)) },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(
          ...(['gzip', 'gzip-garbage', 'deflate', 'br', 'compress', 'identity', 'gzip, gzip'] as const),
        )
        .map((encoding): Twist => (d) => ({ ...d, encoding })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(' ', 'x'.repeat(300), 'é', 'k-1')
        .map((value) => header('Idempotency-Key', value)),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('x'.repeat(500), '../etc', '').map((value) => header('X-Request-Id', value)),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(20_000, 70_000).map((size) => header('X-Padding', 'p'.repeat(size))),
    },
    { weight: 1, arbitrary: fc.constant<Twist>((d) => ({ ...d, chunked: true })) },
  );
}

/** What a client would rightly send to the route. */
function baseline(route: Route, token: string): Draft {
  const hasBody = ['POST', 'PATCH'].includes(route.method);
  return {
    method: route.method,
    id: '1',
    suffix: '',
    query: [],
    headers: { Authorization: `Bearer ${token}`, ...(hasBody ? { 'Content-Type': 'application/json' } : {}) },
    body: hasBody ? route.bodyExample : undefined,
    chunked: false,
  };
}

function toRequest(route: Route, draft: Draft): RawRequest {
  const query = draft.query.length
    ? `?${draft.query.map(([name, value]) => `${name}=${value}`).join('&')}`
    : '';
  const headers = { ...draft.headers };
  let body =
    draft.raw ?? (draft.body === undefined ? undefined : Buffer.from(JSON.stringify(draft.body) ?? 'null'));
  if (body && draft.encoding) {
    headers['Content-Encoding'] = draft.encoding === 'gzip-garbage' ? 'gzip' : draft.encoding;
    if (draft.encoding === 'gzip') body = gzipSync(body);
    if (draft.encoding === 'gzip-garbage') body = Buffer.concat([gzipSync(body).subarray(0, 12), body]);
  }
  return {
    method: draft.method,
    path: route.template.replace('{id}', draft.id) + draft.suffix + query,
    headers,
    body,
    chunked: draft.chunked,
  };
}

interface Generated {
  route: Route;
  request: RawRequest;
}

function requestFor(route: Route, tokens: string[]): fc.Arbitrary<Generated> {
  return fc
    .tuple(fc.constantFrom(...tokens), fc.array(twistsFor(route, tokens), { minLength: 1, maxLength: 3 }))
    .map(([token, twists]) => {
      const request = toRequest(
        route,
        twists.reduce((draft, twist) => twist(draft), baseline(route, token)),
      );
      // fast-check prints a counterexample with this: short enough to read, complete enough to replay by hand.
      return { route, request, [fc.toStringMethod]: () => summaryOf(request) };
    });
}

function summaryOf(request: RawRequest): string {
  const headers = Object.entries(request.headers).map(([name, value]) =>
    value.length > 120
      ? `${name}: ${JSON.stringify(value.slice(0, 20))}…<${value.length} chars>`
      : `${name}: ${JSON.stringify(value)}`,
  );
  const body =
    request.body === undefined
      ? 'no body'
      : `body ${JSON.stringify(request.body.toString('latin1').slice(0, 200))}`;
  return `${request.method} ${request.path} [${headers.join(', ')}] ${body}${request.chunked ? ' (chunked)' : ''}`;
}

// --- the property -----------------------------------------------------------------------------

const describeExchange = ({ request }: Generated, response: RawResponse) =>
  `${summaryOf(request)}\n→ ${response.status} ${String(response.headers['content-type'])} ${response.body.slice(0, 500)}`;

function checkAnswer(generated: Generated, response: RawResponse): void {
  const fail = (why: string) => {
    throw new Error(`${why}\n${describeExchange(generated, response)}`);
  };
  if (response.status >= 500) fail(`a client's request answered ${response.status}`);
  if (response.status < 400 || generated.request.method === 'HEAD') return;
  if (!String(response.headers['content-type']).startsWith('application/problem+json'))
    fail('a 4xx that is not problem+json');
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    fail('a 4xx whose body is not JSON');
  }
  const problem = Problem.safeParse(body);
  if (!problem.success) return fail(`a 4xx whose body is not a problem: ${problem.error.message}`);
  if (problem.data.status !== response.status)
    fail('a problem whose status differs from the response status');
  if (!ErrorCode.safeParse(problem.data.code).success)
    fail(`a problem with an undocumented code "${problem.data.code}"`);
  if (response.status === 405 && !response.headers.allow) fail('a 405 without an Allow header');
}

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);

describe('any client input to any documented route', () => {
  let system: RunningSystem;
  let tokens: string[];

  beforeAll(async () => {
    // startSystem turns the gateway's rate limits off: 429s would hide what the services answer.
    system = await startSystem();
    tokens = [await system.token(42), await system.token(1, { admin: true })];
  });
  afterAll(() => system?.stop());

  it(
    'never answers 5xx, and answers every 4xx with a problem+json',
    async () => {
      // Routes that take a body have the most to get wrong: they are picked three times as often.
      const anyRoute = fc.oneof(
        ...ROUTES.map((route) => ({
          weight: route.bodyExample === undefined ? 1 : 3,
          arbitrary: fc.constant(route),
        })),
      );
      const anyRequest = anyRoute.chain((route) => requestFor(route, tokens));

      await fc.assert(
        fc.asyncProperty(anyRequest, async (generated) => {
          checkAnswer(generated, await sendRaw(system.url, generated.request));
        }),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
      );
    },
    // A generous allowance per request (they take a few ms): only a larger FUZZ_RUNS needs more than the default.
    Math.max(60_000, RUNS * 50),
  );
});
