// OTLP message types loaded with protobufjs from the project's own proto/ files, plus item counters.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const REL = 'opentelemetry/proto/collector/trace/v1/trace_service.proto';

// The directory from which "opentelemetry/proto/..." imports resolve. proto/ may keep the files
// at its top level or one folder down (e.g. a vendored opentelemetry-proto checkout).
function find_include_root() {
  const candidates = [];
  if (process.env.OTLPGATE_PROTO_DIR) candidates.push(process.env.OTLPGATE_PROTO_DIR);
  const proto = path.resolve(here, '../../../proto');
  candidates.push(proto);
  if (fs.existsSync(proto)) {
    for (const e of fs.readdirSync(proto, { withFileTypes: true })) {
      if (e.isDirectory()) candidates.push(path.join(proto, e.name));
    }
  }
  for (const c of candidates) {
    if (fs.existsSync(path.join(c, REL))) return c;
  }
  throw new Error(`no ${REL} under ${candidates.join(', ')} (set OTLPGATE_PROTO_DIR)`);
}

const include_root = find_include_root();
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => path.join(include_root, target);
root.loadSync(
  ['trace', 'metrics', 'logs'].map((s) => `opentelemetry/proto/collector/${s}/v1/${s}_service.proto`),
  { keepCase: false },
);
root.resolveAll();

export const types = {
  traces: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
  metrics: root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'),
  logs: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
};

// gRPC method paths, by signal.
export const grpc_paths = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};

export function decode(signal, bytes) {
  return types[signal].decode(bytes);
}

export function encode(signal, object) {
  const t = types[signal];
  const err = t.verify(object);
  if (err) throw new Error(`bad ${signal} request: ${err}`);
  return Buffer.from(t.encode(t.fromObject(object)).finish());
}

// AnyValue -> plain JS value (enough for the attribute checks in the tests).
export function any_value(v) {
  if (!v || !v.value) return undefined;
  const k = v.value;  // the oneof's virtual field: the name of the member that is set
  const x = v[k];
  if (k === 'intValue') return Number(x);
  if (k === 'arrayValue') return (x.values || []).map(any_value);
  if (k === 'kvlistValue') return attrs(x.values);
  return x;
}

export function attrs(list) {
  const out = {};
  for (const kv of list || []) out[kv.key] = any_value(kv.value);
  return out;
}

function resources(signal, msg) {
  return signal === 'traces' ? msg.resourceSpans : signal === 'metrics' ? msg.resourceMetrics : msg.resourceLogs;
}

function scopes(signal, r) {
  return signal === 'traces' ? r.scopeSpans : signal === 'metrics' ? r.scopeMetrics : r.scopeLogs;
}

function metric_points(m) {
  for (const k of ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary']) {
    if (m[k]) return m[k].dataPoints || [];
  }
  return [];
}

// Flattens a decoded request into items: {resource, scope, name, attributes, message} per span,
// log record or metric data point. `name` is the span name, the metric name, or the log body
// string; `message` the decoded span, log record or data point (with `metric`, its metric).
export function items(signal, msg) {
  const out = [];
  for (const r of resources(signal, msg) || []) {
    const resource = attrs(r.resource?.attributes);
    for (const s of scopes(signal, r) || []) {
      const scope = s.scope?.name ?? '';
      if (signal === 'traces') {
        for (const sp of s.spans || []) {
          out.push({ resource, scope, name: sp.name, attributes: attrs(sp.attributes), message: sp });
        }
      } else if (signal === 'logs') {
        for (const lr of s.logRecords || []) {
          out.push({ resource, scope, name: any_value(lr.body), attributes: attrs(lr.attributes), message: lr });
        }
      } else {
        for (const m of s.metrics || []) {
          for (const p of metric_points(m)) {
            out.push({ resource, scope, name: m.name, attributes: attrs(p.attributes), message: p, metric: m });
          }
        }
      }
    }
  }
  return out;
}

// The Export*ServiceResponses, by signal.
const response_types = {
  traces: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
  metrics: root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse'),
  logs: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse'),
};

// An Export*ServiceResponse as a plain object with numbers for int64: {partialSuccess?: {...}}.
export function decode_response(signal, bytes) {
  const t = response_types[signal];
  return t.toObject(t.decode(bytes), { longs: Number });
}

// google.rpc.Status and RetryInfo, from proto/google/rpc (google/protobuf/* come with protobufjs).
const rpc_root = new protobuf.Root();
rpc_root.resolvePath = (_origin, target) => path.resolve(here, '../../../proto', target);
rpc_root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto']);
rpc_root.resolveAll();
const RpcStatus = rpc_root.lookupType('google.rpc.Status');
const RetryInfo = rpc_root.lookupType('google.rpc.RetryInfo');

// A google.rpc.Status body (HTTP error, or gRPC grpc-status-details-bin): {code, message,
// detail_types, retry_delay_s} where retry_delay_s is RetryInfo's delay, or undefined.
export function decode_status(bytes) {
  const s = RpcStatus.decode(bytes);
  // protobufjs bundles google.protobuf.Any with its snake_case field names.
  const types = s.details.map((d) => d.type_url ?? d.typeUrl);
  const out = { code: s.code, message: s.message, detail_types: types };
  const retry = s.details[types.indexOf('type.googleapis.com/google.rpc.RetryInfo')];
  if (retry) out.retry_delay_s = Number(RetryInfo.decode(retry.value).retryDelay?.seconds ?? 0);
  return out;
}

// The bytes of a google.rpc.Status {code, message} with a RetryInfo of `retry_delay_s` seconds
// (when given) in its details: what a backend sends in grpc-status-details-bin to push back.
export function encode_status(code, message, retry_delay_s) {
  const details = [];
  if (retry_delay_s !== undefined) {
    details.push({
      type_url: 'type.googleapis.com/google.rpc.RetryInfo',
      value: RetryInfo.encode(RetryInfo.create({ retryDelay: { seconds: retry_delay_s } })).finish(),
    });
  }
  return Buffer.from(RpcStatus.encode(RpcStatus.create({ code, message, details })).finish());
}
