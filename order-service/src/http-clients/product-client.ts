import http from 'node:http';
import https from 'node:https';
import CircuitBreaker from 'opossum';
import { ProductList, MAX_IDS_PER_LOOKUP, type Product } from '@shop/contracts';
import { AppError, serviceUrls } from '@shop/platform';
import { findMissingProducts } from '../domain/stock-check';

export interface ProductClientOptions {
  /** The product service's base URL, or several, comma-separated: one per instance (PRODUCT_SERVICE_URL). */
  baseUrl: string;
  timeoutMs: number;
  /** How long an instance that failed a call is tried last (default `COOL_DOWN_MS`). */
  coolDownMs?: number;
  breaker?: {
    /** Failure percentage within the rolling window that opens the breaker. */
    errorThresholdPercentage?: number;
    /** How long the breaker stays open before one trial call (half-open). */
    resetTimeoutMs?: number;
    /** Calls in the window before the percentage counts at all. */
    volumeThreshold?: number;
    rollingWindowMs?: number;
  };
}

export interface ProductCatalogue {
  /**
   * The products with these ids (one batch call); unknown ids → 404 product_not_found. `timeoutMs`
   * (what is left of the caller's own deadline) can only shorten the client's timeout, never stretch it.
   */
  getProducts(ids: readonly number[], options?: { timeoutMs?: number }): Promise<Product[]>;
}

export interface ProductClient extends ProductCatalogue {
  close(): void;
}

/**
 * The order service's one edge to the product service: a lean `http.request` over a keep-alive
 * agent with a timeout, one batch call per order, behind an opossum circuit breaker so a sick
 * product service costs callers a fast 503 instead of a pile of hung requests. Failures map to the
 * SPEC §4 codes: unreachable (refused, not found, no connection in time) / breaker open / 5xx → 503
 * product_service_unavailable, no answer in time → 504
 * product_service_timeout, ids the catalogue does not know → 404 product_not_found.
 *
 * With several instances (SPEC §9), calls take them in turn. The call is a GET, so one that failed
 * without an answer — the connection refused, the host not found or unreachable, no connection within
 * `CONNECT_TIMEOUT_MS`, a reset, no answer within its share of the deadline — goes on to the next
 * instance within the same deadline, and the instance that failed is tried last for `coolDownMs`.
 * Each instance not cooling down gets an equal share of what is left of the deadline, so a hung one
 * leaves time for the others. Only when every instance has failed does the call fail, once, as far as
 * the breaker is concerned. A 5xx is an answer from an instance that took the call: it ends the call
 * as it would with one instance, and the breaker counts it.
 */
const IDLE_SOCKET_TIMEOUT_MS = 30_000;
/** How long an instance that failed a call is tried last (unless every other fails too). */
const COOL_DOWN_MS = 5_000;
/**
 * How long opening a connection (DNS lookup included) may take. A live instance on the same network
 * connects in milliseconds; one that is stopped or blackholed is left after this instead of holding
 * the whole call until its deadline.
 */
const CONNECT_TIMEOUT_MS = 1_000;

/** A failed call to the product service: a network error, a timeout (`ETIMEDOUT`, or `ECONNECTTIMEOUT` before connecting), or a 5xx answer (`status`). */
class ProductCallError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** One product-service instance: where it is, and the keep-alive sockets to it. */
interface Instance {
  request: typeof http.request;
  agent: http.Agent;
  target: http.RequestOptions;
  basePath: string;
  /** When its cool-down after a failed call ends (`performance.now()` time). */
  coolingUntil: number;
}

function instanceAt(baseUrl: string): Instance {
  // Idle keep-alive sockets are dropped after 30 s, well before the product service's own 65 s
  // keep-alive timeout, so a request never lands on a socket the server is closing (ECONNRESET → 503).
  const agentOptions = { keepAlive: true, maxSockets: 64, timeout: IDLE_SOCKET_TIMEOUT_MS };
  const base = new URL(baseUrl);
  const secure = base.protocol === 'https:';
  const agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  return {
    request: secure ? https.request : http.request,
    agent,
    target: {
      protocol: base.protocol,
      hostname: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port || undefined,
      agent,
      headers: { Accept: 'application/json' },
    },
    basePath: base.pathname.replace(/\/$/, ''),
    coolingUntil: -Infinity,
  };
}

/** One batch call to one instance, given up after `timeoutMs`, or sooner if no connection opens. */
function fetchBatchFrom(
  { request, target, basePath }: Instance,
  ids: readonly number[],
  timeoutMs: number,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let connectTimer: NodeJS.Timeout | undefined;
    const settle = () => {
      settled = true;
      clearTimeout(timer);
      clearTimeout(connectTimer);
    };
    const fail = (error: ProductCallError) => {
      if (settled) return;
      settle();
      reject(error);
    };
    const req = request(
      {
        ...target,
        method: 'GET',
        path: `${basePath}/api/v1/products?ids=${ids.join(',')}&limit=${MAX_IDS_PER_LOOKUP}`,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error: NodeJS.ErrnoException) =>
          fail(new ProductCallError(error.message, error.code)),
        );
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          // The breaker must see 5xx as failures; 4xx are answers (and never open it).
          if (status >= 500) return fail(new ProductCallError(`answered ${status}`, undefined, status));
          if (settled) return;
          settle();
          let body: unknown;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            body = undefined;
          }
          resolve({ status, body });
        });
      },
    );
    // The timeouts cover the whole call and the connecting; the socket is really given up when one fires.
    const giveUp = (error: ProductCallError) => {
      fail(error);
      req.destroy();
    };
    const timer = setTimeout(
      () => giveUp(new ProductCallError(`no answer within ${timeoutMs} ms`, 'ETIMEDOUT')),
      timeoutMs,
    );
    req.on('socket', (socket) => {
      if (!socket.connecting) return; // a kept-alive socket, already open
      connectTimer = setTimeout(
        () =>
          giveUp(new ProductCallError(`no connection within ${CONNECT_TIMEOUT_MS} ms`, 'ECONNECTTIMEOUT')),
        Math.min(CONNECT_TIMEOUT_MS, timeoutMs),
      );
      socket.once('connect', () => clearTimeout(connectTimer));
    });
    req.on('error', (error: NodeJS.ErrnoException) => fail(new ProductCallError(error.message, error.code)));
    req.end();
  });
}

export function createProductClient(options: ProductClientOptions): ProductClient {
  const instances = serviceUrls(options.baseUrl).map(instanceAt);
  const coolDownMs = options.coolDownMs ?? COOL_DOWN_MS;
  let turn = 0;
  /** The instances for one call: the next in turn first, those cooling down after a failure last. */
  const callOrder = (): { order: Instance[]; fresh: number } => {
    const start = turn++ % instances.length;
    const inTurn = [...instances.slice(start), ...instances.slice(0, start)];
    const now = performance.now();
    const cooling = (instance: Instance) => now < instance.coolingUntil;
    const fresh = inTurn.filter((instance) => !cooling(instance));
    return { order: [...fresh, ...inTurn.filter(cooling)], fresh: fresh.length };
  };

  /** Asks the instances one after another until one answers; throws only when none did within `timeoutMs`. */
  const fetchBatch = async (
    ids: readonly number[],
    timeoutMs: number,
  ): Promise<{ status: number; body: unknown }> => {
    const deadline = performance.now() + timeoutMs;
    const { order, fresh } = callOrder();
    let failure = new ProductCallError(`no time left of ${timeoutMs} ms`, 'ETIMEDOUT');
    for (const [index, instance] of order.entries()) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      // What is left is shared among the instances still to try that are not cooling down.
      const sharers = index < fresh ? fresh - index : order.length - index;
      try {
        return await fetchBatchFrom(instance, ids, left / sharers);
      } catch (error) {
        // A 5xx is the instance's answer; anything else before an answer is safe to ask again (a GET).
        if (!(error instanceof ProductCallError) || error.status !== undefined) throw error;
        instance.coolingUntil = performance.now() + coolDownMs;
        failure = error;
      }
    }
    throw failure;
  };

  const breaker = new CircuitBreaker(fetchBatch, {
    timeout: false, // fetchBatch enforces the timeout, so the socket is really given up
    errorThresholdPercentage: options.breaker?.errorThresholdPercentage ?? 50,
    resetTimeout: options.breaker?.resetTimeoutMs ?? 10_000,
    volumeThreshold: options.breaker?.volumeThreshold ?? 5,
    rollingCountTimeout: options.breaker?.rollingWindowMs ?? 10_000,
  });

  return {
    async getProducts(ids, call = {}) {
      const unique = [...new Set(ids)];
      if (unique.length === 0) return [];
      if (unique.length > MAX_IDS_PER_LOOKUP)
        throw new Error(`at most ${MAX_IDS_PER_LOOKUP} products per lookup`);
      let answer: { status: number; body: unknown };
      try {
        answer = await breaker.fire(unique, Math.min(options.timeoutMs, call.timeoutMs ?? Infinity));
      } catch (error) {
        throw toProductServiceError(error);
      }
      if (answer.status !== 200) {
        throw unavailable(`The product service answered ${answer.status}.`);
      }
      const parsed = ProductList.safeParse(answer.body);
      if (!parsed.success) throw unavailable('The product service answered with an unexpected body.');
      const found = new Map(parsed.data.items.map((product) => [product.id, product]));
      const missing = findMissingProducts(unique, new Set(found.keys()));
      if (missing.length > 0) {
        throw new AppError(404, 'product_not_found', `No product with id ${missing.join(', ')}.`, {
          extra: { product_ids: missing },
        });
      }
      return unique.map((id) => found.get(id)!);
    },
    close() {
      breaker.shutdown();
      for (const { agent } of instances) agent.destroy();
    },
  };
}

const unavailable = (detail: string) => new AppError(503, 'product_service_unavailable', detail);

function toProductServiceError(error: unknown): AppError {
  const code = (error as { code?: string }).code;
  if (code === 'EOPENBREAKER') {
    return unavailable('The product service is failing; calls to it are paused for a moment.');
  }
  if (error instanceof ProductCallError) {
    if (code === 'ETIMEDOUT') {
      return new AppError(504, 'product_service_timeout', 'The product service did not answer in time.');
    }
    if (error.status !== undefined) return unavailable(`The product service answered ${error.status}.`);
    return unavailable(`The product service is unreachable (${code ?? error.message}).`);
  }
  return unavailable('The product service could not be asked.');
}
