// Sends known telemetry with the official OpenTelemetry JS SDK and its OTLP exporters (gRPC,
// HTTP/protobuf or HTTP/JSON).
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';

// transport: 'grpc' (url http://host:port, gzip message compression), 'http' (protobuf) or 'json'
// (both OTLP/HTTP, base url).
function make_exporter(transport, signal, base_url) {
  if (transport === 'grpc') {
    const opts = { url: base_url, compression: 'gzip' };
    return signal === 'traces' ? new GrpcTraceExporter(opts)
      : signal === 'logs' ? new GrpcLogExporter(opts) : new GrpcMetricExporter(opts);
  }
  const opts = { url: `${base_url}/v1/${signal}`, compression: 'none' };
  if (transport === 'json') {
    return signal === 'traces' ? new JsonTraceExporter(opts)
      : signal === 'logs' ? new JsonLogExporter(opts) : new JsonMetricExporter(opts);
  }
  return signal === 'traces' ? new ProtoTraceExporter(opts)
    : signal === 'logs' ? new ProtoLogExporter(opts) : new ProtoMetricExporter(opts);
}

// Wraps an SDK exporter so the test sees every export result (the processors swallow failures)
// and, when `exported` is given, every item handed to the exporter.
function recording(exporter, results, exported = []) {
  return {
    export(batch, cb) {
      exported.push(...batch);
      exporter.export(batch, (r) => {
        results.push(r);
        cb(r);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

function check(results, what) {
  if (results.length === 0) throw new Error(`${what}: the SDK exported nothing`);
  for (const r of results) {
    if (r.code !== 0) throw new Error(`${what}: export failed: ${r.error?.stack || r.error}`);
  }
}

// `count` spans named span-<i> with attribute it.index = i (plus `attributes`), in one resource
// tagged it.run = run. Resolves the exported spans' contexts ({traceId, spanId} in hex), in export
// order.
export async function send_spans(transport, base_url, run, count, { attributes = {} } = {}) {
  const results = [];
  const exported = [];
  const exporter = recording(make_exporter(transport, 'traces', base_url), results, exported);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'otlpgate-it', 'it.run': run }),
    spanProcessors: [new BatchSpanProcessor(exporter, { maxExportBatchSize: 1000, maxQueueSize: 4096 })],
  });
  const tracer = provider.getTracer('otlpgate-it');
  for (let i = 0; i < count; i++) {
    const span = tracer.startSpan(`span-${i}`, { attributes: { ...attributes, 'it.index': i } });
    span.end();
  }
  await provider.forceFlush();
  await provider.shutdown();
  check(results, `${transport} spans`);
  return exported.map((s) => s.spanContext());
}

// `count` log records with body log-<i> and attribute it.index = i (plus `attributes`).
export async function send_logs(transport, base_url, run, count, { attributes = {} } = {}) {
  const results = [];
  const exporter = recording(make_exporter(transport, 'logs', base_url), results);
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'otlpgate-it', 'it.run': run }),
    processors: [new BatchLogRecordProcessor({ exporter, maxExportBatchSize: 1000, maxQueueSize: 4096 })],
  });
  const logger = provider.getLogger('otlpgate-it');
  for (let i = 0; i < count; i++) {
    logger.emit({ body: `log-${i}`, severityNumber: SeverityNumber.INFO, attributes: { ...attributes, 'it.index': i } });
  }
  await provider.forceFlush();
  await provider.shutdown();
  check(results, `${transport} logs`);
}

// A reader that only collects when asked, so exactly one export happens (a periodic reader would
// export again on shutdown and make the counts depend on timing).
class OnDemandReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

// The metric points this sends, by metric name: one point per attribute set.
export const METRIC_POINTS = { 'it.requests': 5, 'it.latency': 3, 'it.temperature': 2 };
export const METRIC_POINTS_TOTAL = Object.values(METRIC_POINTS).reduce((a, b) => a + b, 0);

export async function send_metrics(transport, base_url, run) {
  await send_metric_batch(transport, base_url, run, (meter) => {
    const counter = meter.createCounter('it.requests');
    for (let i = 0; i < METRIC_POINTS['it.requests']; i++) counter.add(i + 1, { route: `/r${i}` });
    const histogram = meter.createHistogram('it.latency', { unit: 'ms' });
    for (let i = 0; i < METRIC_POINTS['it.latency']; i++) histogram.record(10 * (i + 1), { method: `m${i}` });
    const gauge = meter.createGauge('it.temperature');
    for (let i = 0; i < METRIC_POINTS['it.temperature']; i++) gauge.record(20 + i, { room: `room${i}` });
  });
}

// Lets `record(meter)` make measurements, collects them once (resource tagged it.run = run) and
// exports that one batch `times` times in a row, as a sender that resends a batch does.
export async function send_metric_batch(transport, base_url, run, record, { times = 1 } = {}) {
  const exporter = make_exporter(transport, 'metrics', base_url);
  const reader = new OnDemandReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'otlpgate-it', 'it.run': run }),
    readers: [reader],
  });
  record(provider.getMeter('otlpgate-it'));
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length) throw new Error(`metric collection failed: ${errors.join('; ')}`);
  try {
    for (let i = 0; i < times; i++) {
      const result = await new Promise((resolve) => exporter.export(resourceMetrics, resolve));
      if (result.code !== 0) throw new Error(`${transport} metrics: export failed: ${result.error?.stack || result.error}`);
    }
  } finally {
    await provider.shutdown();
    await exporter.shutdown();
  }
}
