import express, { type Express } from 'express';
import { metricsHandler, notFoundHandler, problemHandler, type Logger } from '@shop/platform';

/**
 * The gateway's internal listener (METRICS_PORT, SPEC §4): GET /metrics as Prometheus text and
 * nothing else. The public port never serves it, so the gateway's traffic figures are not
 * published with the API.
 */
export function createMetricsApp(logger: Logger): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', metricsHandler());
  app.use(notFoundHandler);
  app.use(problemHandler(logger));
  return app;
}
