export { createMetrics, httpMetrics, metricsHandler, processMetrics, type Metrics } from './metrics';
export {
  createOutboxProbe,
  OUTBOX_LAG_SQL,
  outboxLagCheck,
  watchOutbox,
  type OutboxLag,
  type OutboxProbe,
} from './outbox-metrics';
export {
  isValidTraceparent,
  newTraceparent,
  noteOtelExport,
  traceIdOf,
  TRACEPARENT_HEADER,
} from './trace-context';
export { shutdownTracing, tracesEndpoint, tracingStarted } from './tracing';
export { watchPartitions, type PartitionProbe } from './partition-metrics';
