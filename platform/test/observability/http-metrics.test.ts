import express, { Router } from 'express';
import request from 'supertest';
import { AppError, notFoundHandler, problemHandler, requestContext } from '../../src/http';
import { createLogger } from '../../src/logger';
import { createMetrics, httpMetrics, metricsHandler, type Metrics } from '../../src/observability';
import { capturingLogger, eventually } from '../../src/testing';

const quiet = createLogger('http-metrics-test');
quiet.silent = true;

function buildApp(metrics: Metrics) {
  const app = express();
  app.use(httpMetrics(metrics));
  app.get('/metrics', metricsHandler(metrics));
  const things = Router();
  things.get('/:id', (req, res, next) => {
    if (req.params.id === '404') return next(new AppError(404, 'not_found', 'no such thing'));
    res.json({ id: req.params.id });
  });
  app.use('/api/v1/things', things);
  app.use(notFoundHandler);
  app.use(problemHandler(quiet));
  return app;
}

const countOf = async (metrics: Metrics, labels: Record<string, string>) => {
  const { values } = await metrics.registry.getSingleMetric('http_request_duration_seconds')!.get();
  const metric = (values as { metricName?: string; labels: Record<string, unknown>; value: number }[]).find(
    (value) =>
      value.metricName === 'http_request_duration_seconds_count' &&
      Object.entries(labels).every(([key, expected]) => String(value.labels[key]) === expected),
  );
  return metric?.value ?? 0;
};

describe('HTTP metrics', () => {
  test('a request is recorded under its route pattern with the mount path, never the raw URL', async () => {
    // Arrange
    const metrics = createMetrics();
    const app = buildApp(metrics);

    // Act
    await request(app).get('/api/v1/things/17').expect(200);
    const text = (await request(app).get('/metrics').expect(200)).text;

    // Assert
    expect(text).toContain('http_request_duration_seconds_bucket');
    expect(text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/things\/:id",status="200"\} 1/,
    );
    expect(text).not.toContain('/api/v1/things/17');
  });

  test('an error answered after the router unwound keeps the pattern of the route that failed', async () => {
    const metrics = createMetrics();

    await request(buildApp(metrics)).get('/api/v1/things/404').expect(404);

    expect(await countOf(metrics, { route: '/api/v1/things/:id', status: '404' })).toBe(1);
  });

  test('a request no route matched is labelled unmatched', async () => {
    const metrics = createMetrics();

    await request(buildApp(metrics)).get('/nowhere/at/all').expect(404);

    expect(await countOf(metrics, { route: 'unmatched', status: '404' })).toBe(1);
  });

  test('/metrics answers Prometheus text', async () => {
    const response = await request(buildApp(createMetrics({ defaults: true })))
      .get('/metrics')
      .expect(200);

    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.text).toContain('process_cpu_user_seconds_total');
    expect(response.text).toContain('# TYPE events_published_total counter');
  });
});

describe('trace context on requests', () => {
  const capture = () => {
    const { logger, lines } = capturingLogger('http');
    const app = express();
    app.use(requestContext(logger));
    app.get('/echo', (req, res) => res.json({ traceparent: req.headers.traceparent }));
    return { app, lines };
  };

  test('an incoming traceparent is kept and its trace id is on the request log line', async () => {
    const { app, lines } = capture();
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

    const response = await request(app).get('/echo').set('traceparent', traceparent);

    expect(response.body.traceparent).toBe(traceparent);
    await eventually(() =>
      expect(lines[0]).toMatchObject({ message: 'request', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' }),
    );
  });

  test('a request without a valid traceparent gets a new one on its headers, logged as trace_id', async () => {
    const { app, lines } = capture();

    const response = await request(app).get('/echo').set('traceparent', 'not-a-trace');

    expect(response.body.traceparent).toMatch(/^00-[\da-f]{32}-[\da-f]{16}-01$/);
    await eventually(() => expect(lines[0]?.trace_id).toBe(String(response.body.traceparent).split('-')[1]));
  });
});
