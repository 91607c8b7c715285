// Fixed OTLP requests built with protobufjs from the project's proto files.
import { encode } from './proto.mjs';

const id = (n, len) => Buffer.alloc(len, n);
const kv = (key, value) => ({ key, value });

// A trace request with two resources, several scopes and spans carrying every attribute type,
// events, links and a status, so a gateway that re-encoded anything would change the bytes.
export function trace_request(run, spans_per_scope = 4) {
  const resource_spans = [];
  for (let r = 0; r < 2; r++) {
    const scope_spans = [];
    for (let s = 0; s < 2; s++) {
      const spans = [];
      for (let i = 0; i < spans_per_scope; i++) {
        const n = (r * 2 + s) * spans_per_scope + i;
        spans.push({
          traceId: id(r + 1, 16), spanId: id(n + 1, 8), parentSpanId: i ? id(n, 8) : undefined,
          name: `op-${n}`, kind: 2, startTimeUnixNano: 1700000000000000000 + n * 1000, endTimeUnixNano: 1700000000000500000 + n * 1000,
          attributes: [
            kv('it.index', { intValue: n }), kv('http.route', { stringValue: `/items/${n}` }),
            kv('ok', { boolValue: n % 2 === 0 }), kv('ratio', { doubleValue: n / 7 }),
            kv('tags', { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 1 }] } }),
            kv('blob', { bytesValue: Buffer.from([0, 255, n & 255]) }),
          ],
          events: [{ timeUnixNano: 1700000000000100000, name: 'event', attributes: [kv('e', { stringValue: 'v' })] }],
          links: i ? [{ traceId: id(9, 16), spanId: id(9, 8), attributes: [kv('l', { intValue: 1 })] }] : [],
          status: { code: n % 3 === 0 ? 2 : 1, message: n % 3 === 0 ? 'boom' : '' },
        });
      }
      scope_spans.push({ scope: { name: `scope-${s}`, version: '1.0.0' }, spans, schemaUrl: 'https://opentelemetry.io/schemas/1.21.0' });
    }
    resource_spans.push({
      resource: { attributes: [kv('service.name', { stringValue: `svc-${r}` }), kv('it.run', { stringValue: run })] },
      scopeSpans: scope_spans,
    });
  }
  return encode('traces', { resourceSpans: resource_spans });
}

export function logs_request(run, count) {
  const logRecords = [];
  for (let i = 0; i < count; i++) {
    logRecords.push({ timeUnixNano: 1700000000000000000 + i, severityNumber: 9, severityText: 'INFO',
      body: { stringValue: `log-${i}` }, attributes: [kv('it.index', { intValue: i })] });
  }
  return encode('logs', { resourceLogs: [{
    resource: { attributes: [kv('service.name', { stringValue: 'svc' }), kv('it.run', { stringValue: run })] },
    scopeLogs: [{ scope: { name: 'it' }, logRecords }],
  }] });
}

export function metrics_request(run, count) {
  const dataPoints = [];
  for (let i = 0; i < count; i++) {
    dataPoints.push({ timeUnixNano: 1700000000000000000 + i, asInt: i, attributes: [kv('it.index', { intValue: i })] });
  }
  return encode('metrics', { resourceMetrics: [{
    resource: { attributes: [kv('it.run', { stringValue: run })] },
    scopeMetrics: [{ scope: { name: 'it' }, metrics: [{ name: 'it.gauge', gauge: { dataPoints } }] }],
  }] });
}

// Appends an unknown field (number 1000, varint) to a serialized message: legal protobuf that a
// pass-through gateway must forward untouched.
export function with_unknown_field(bytes) {
  return Buffer.concat([bytes, Buffer.from([0xc0, 0x3e, 0x2a])]);  // tag (1000<<3|0) = 8000, value 42
}
