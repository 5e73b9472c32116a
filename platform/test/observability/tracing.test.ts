import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { serviceNameOf, tracesEndpoint } from '../../src/observability/tracing';
import { createTestVhost, type TestVhost } from '../../src/testing';

const run = promisify(execFile);
const TSX = path.resolve(__dirname, '../../../node_modules/.bin/tsx');
const fixture = (name: string) => path.join(__dirname, 'fixtures', name);

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`;
const SPAN_KIND = { server: 2, producer: 4, consumer: 5 };

interface ExportedSpan {
  service: string | undefined;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

type AnyValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean };
type KeyValue = { key: string; value: AnyValue };
interface OtlpBody {
  resourceSpans: {
    resource: { attributes: KeyValue[] };
    scopeSpans: { spans: (Omit<ExportedSpan, 'service' | 'attributes'> & { attributes?: KeyValue[] })[] }[];
  }[];
}

const valueOf = (value: AnyValue) => value.stringValue ?? value.intValue ?? value.boolValue;
const record = (attributes: KeyValue[] = []) =>
  Object.fromEntries(attributes.map(({ key, value }) => [key, valueOf(value)]));

/** A stand-in OTLP/HTTP collector: records every JSON body POSTed to /v1/traces. */
async function startCollector(): Promise<{ endpoint: string; spans: () => ExportedSpan[]; close: () => Promise<void> }> {
  const bodies: OtlpBody[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces')
        bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpBody);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans: () =>
      bodies.flatMap((body) =>
        body.resourceSpans.flatMap(({ resource, scopeSpans }) =>
          scopeSpans.flatMap(({ spans }) =>
            spans.map((span) => ({
              ...span,
              service: record(resource.attributes)['service.name'] as string | undefined,
              attributes: record(span.attributes),
            })),
          ),
        ),
      ),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function runFixture(name: string, args: string[], env: Record<string, string | undefined>) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'error', ...env };
  for (const key of Object.keys(childEnv)) if (childEnv[key] === undefined) delete childEnv[key];
  return run(TSX, [fixture(name), ...args], { env: childEnv, timeout: 30_000 });
}

const withoutOtel = {
  OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined,
  OTEL_SERVICE_NAME: undefined,
};

describe('tracing entry (@shop/platform/otel)', () => {
  jest.setTimeout(60_000);

  it('with OTEL_EXPORTER_OTLP_ENDPOINT set, an HTTP request is exported as a server span of the service that continues the incoming traceparent', async () => {
    const collector = await startCollector();
    try {
      const { stdout } = await runFixture('traced-http-app.ts', [TRACEPARENT], {
        ...withoutOtel,
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
        OTEL_SERVICE_NAME: 'tracing-fixture',
      });

      const result = JSON.parse(stdout) as { started: boolean; continued: { trace_id: string } };
      const server = collector.spans().filter((span) => span.kind === SPAN_KIND.server);
      const continued = server.find((span) => span.traceId === TRACE_ID);
      expect(result.started).toBe(true);
      expect(result.continued.trace_id).toBe(TRACE_ID);
      expect(continued).toMatchObject({ service: 'tracing-fixture', parentSpanId: PARENT_SPAN_ID });
      expect(continued!.attributes['http.route'] ?? continued!.name).toContain('/ping/:n');
      expect(collector.spans().some((span) => span.traceId === TRACE_ID && span.name.includes('request handler'))).toBe(
        true,
      );
    } finally {
      await collector.close();
    }
  });

  it('with tracing on, a request that arrives without a traceparent is logged under the trace id of its exported span', async () => {
    const collector = await startCollector();
    try {
      const { stdout } = await runFixture('traced-http-app.ts', [TRACEPARENT], {
        ...withoutOtel,
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      });

      const { fresh } = JSON.parse(stdout) as { fresh: { trace_id: string } };
      const span = collector.spans().find((s) => s.kind === SPAN_KIND.server && s.traceId !== TRACE_ID);
      expect(fresh.trace_id).toMatch(/^[\da-f]{32}$/);
      expect(span).toMatchObject({ traceId: fresh.trace_id });
      expect(span!.parentSpanId || undefined).toBeUndefined();
    } finally {
      await collector.close();
    }
  });

  it('with tracing on, a message published outside any span keeps its stored traceparent header and its consumer span continues that trace', async () => {
    const collector = await startCollector();
    let vhost: TestVhost | undefined;
    try {
      vhost = await createTestVhost();
      const { stdout } = await runFixture('traced-amqp-roundtrip.ts', [vhost.url, TRACEPARENT], {
        ...withoutOtel,
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
        OTEL_SERVICE_NAME: 'tracing-fixture',
      });

      const { headerTraceparent, queue } = JSON.parse(stdout) as { headerTraceparent: string; queue: string };
      const spans = collector.spans();
      const consumer = spans.find((span) => span.kind === SPAN_KIND.consumer);
      expect(headerTraceparent).toBe(TRACEPARENT);
      expect(consumer).toMatchObject({
        service: 'tracing-fixture',
        name: `${queue} process`,
        traceId: TRACE_ID,
        parentSpanId: PARENT_SPAN_ID,
      });
      expect(spans.some((span) => span.kind === SPAN_KIND.producer)).toBe(true);
    } finally {
      await vhost?.drop();
      await collector.close();
    }
  });

  it('with tracing on, a service stopped by SIGTERM still exports the spans of its last requests before it exits', async () => {
    const collector = await startCollector();
    try {
      await runFixture('traced-sigterm.ts', [TRACEPARENT], {
        ...withoutOtel,
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
        OTEL_SERVICE_NAME: 'tracing-fixture',
      });

      const server = collector.spans().find((span) => span.kind === SPAN_KIND.server);
      expect(server).toMatchObject({ service: 'tracing-fixture', traceId: TRACE_ID });
    } finally {
      await collector.close();
    }
  });

  it('without OTEL_EXPORTER_OTLP_ENDPOINT, loading the entry starts nothing and loads no @opentelemetry module', async () => {
    const { stdout } = await runFixture('untraced-load.ts', [], withoutOtel);

    const result = JSON.parse(stdout) as { started: boolean; opentelemetry: string[]; sigterm: number };
    expect(result).toEqual({ started: false, opentelemetry: [], sigterm: 0 });
  });
});

describe('tracesEndpoint', () => {
  it('appends /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT, and prefers OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given', () => {
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toBe(
      'http://collector:4318/v1/traces',
    );
    expect(
      tracesEndpoint({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://other:4318/custom',
      }),
    ).toBe('http://other:4318/custom');
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://other:4318/custom' })).toBeUndefined();
  });
});

describe('serviceNameOf', () => {
  it("names a service's main script after its package and any other script after package and script", () => {
    const repo = path.resolve(__dirname, '../../..');
    expect(serviceNameOf(path.join(repo, 'order-service/dist/src/main.js'))).toBe('order-service');
    expect(serviceNameOf(path.join(repo, 'order-service/dist/src/relay.js'))).toBe('order-service-relay');
    expect(serviceNameOf(path.join(repo, 'gateway/src/main.ts'))).toBe('gateway');
  });
});
