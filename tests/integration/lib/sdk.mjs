// Sends known telemetry with the official OpenTelemetry JS SDK and its OTLP exporters (gRPC or HTTP/protobuf).
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

// transport: 'grpc' (url http://host:port, gzip message compression) or 'http' (base url).
function make_exporter(transport, signal, base_url) {
  if (transport === 'grpc') {
    const opts = { url: base_url, compression: 'gzip' };
    return signal === 'traces' ? new GrpcTraceExporter(opts)
      : signal === 'logs' ? new GrpcLogExporter(opts) : new GrpcMetricExporter(opts);
  }
  const opts = { url: `${base_url}/v1/${signal}`, compression: 'none' };
  return signal === 'traces' ? new ProtoTraceExporter(opts)
    : signal === 'logs' ? new ProtoLogExporter(opts) : new ProtoMetricExporter(opts);
}

// Wraps an SDK exporter so the test sees every export result (the processors swallow failures).
function recording(exporter, results) {
  return {
    export(batch, cb) {
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

// `count` spans named span-<i> with attribute it.index = i, in one resource tagged it.run = run.
export async function send_spans(transport, base_url, run, count) {
  const results = [];
  const exporter = recording(make_exporter(transport, 'traces', base_url), results);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'otlpgate-it', 'it.run': run }),
    spanProcessors: [new BatchSpanProcessor(exporter, { maxExportBatchSize: 1000, maxQueueSize: 4096 })],
  });
  const tracer = provider.getTracer('otlpgate-it');
  for (let i = 0; i < count; i++) {
    const span = tracer.startSpan(`span-${i}`, { attributes: { 'it.index': i } });
    span.end();
  }
  await provider.forceFlush();
  await provider.shutdown();
  check(results, `${transport} spans`);
}

// `count` log records with body log-<i> and attribute it.index = i.
export async function send_logs(transport, base_url, run, count) {
  const results = [];
  const exporter = recording(make_exporter(transport, 'logs', base_url), results);
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'otlpgate-it', 'it.run': run }),
    processors: [new BatchLogRecordProcessor({ exporter, maxExportBatchSize: 1000, maxQueueSize: 4096 })],
  });
  const logger = provider.getLogger('otlpgate-it');
  for (let i = 0; i < count; i++) {
    logger.emit({ body: `log-${i}`, severityNumber: SeverityNumber.INFO, attributes: { 'it.index': i } });
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

export async function send_metrics(transport, base_url, run) {
  const exporter = make_exporter(transport, 'metrics', base_url);
  const reader = new OnDemandReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'otlpgate-it', 'it.run': run }),
    readers: [reader],
  });
  const meter = provider.getMeter('otlpgate-it');
  const counter = meter.createCounter('it.requests');
  for (let i = 0; i < METRIC_POINTS['it.requests']; i++) counter.add(i + 1, { route: `/r${i}` });
  const histogram = meter.createHistogram('it.latency', { unit: 'ms' });
  for (let i = 0; i < METRIC_POINTS['it.latency']; i++) histogram.record(10 * (i + 1), { method: `m${i}` });
  const gauge = meter.createGauge('it.temperature');
  for (let i = 0; i < METRIC_POINTS['it.temperature']; i++) gauge.record(20 + i, { room: `room${i}` });

  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length) throw new Error(`metric collection failed: ${errors.join('; ')}`);
  const result = await new Promise((resolve) => exporter.export(resourceMetrics, resolve));
  await provider.shutdown();
  await exporter.shutdown();
  if (result.code !== 0) throw new Error(`${transport} metrics: export failed: ${result.error?.stack || result.error}`);
}
