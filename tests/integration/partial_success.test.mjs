// Partial success: invalid items (a metric without a name, spans and log records with malformed
// ids) are dropped, the rest is forwarded, and the sender gets 200 / OK with rejected_* and an
// error_message, over OTLP/HTTP and OTLP/gRPC alike; /metrics counts them by reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metric_value } from './lib/gateway.mjs';
import { with_gateway } from './lib/setup.mjs';
import { post_otlp, grpc_export } from './lib/clients.mjs';
import { decode_response, encode } from './lib/proto.mjs';

const s = with_gateway({ config: { health: true }, start: { expect: ['grpc', 'http', 'health'] } });

const id = (n, len) => Buffer.alloc(len, n);
const resource = (run) => ({ attributes: [{ key: 'it.run', value: { stringValue: run } }] });
const mine = (run) => (item) => item.resource['it.run'] === run;

// Spans named by validity: good-*, and one per malformed id.
function traces(run) {
  const span = (name, fields = {}) => ({ traceId: id(1, 16), spanId: id(2, 8), name, ...fields });
  return encode('traces', { resourceSpans: [{ resource: resource(run), scopeSpans: [{ spans: [
    span('good-1'),
    span('short-trace-id', { traceId: id(1, 15) }),
    span('good-2', { parentSpanId: id(3, 8) }),
    span('no-span-id', { spanId: undefined }),
    span('good-3'),
  ] }] }] });
}

function metrics(run) {
  const points = (n) => ({ dataPoints: Array.from({ length: n }, (_, i) => ({ asInt: i, timeUnixNano: 1 + i })) });
  return encode('metrics', { resourceMetrics: [{ resource: resource(run), scopeMetrics: [{ metrics: [
    { name: 'it.good', gauge: points(3) },
    { gauge: points(2) },  // no name
  ] }] }] });
}

function logs(run) {
  return encode('logs', { resourceLogs: [{ resource: resource(run), scopeLogs: [{ logRecords: [
    { body: { stringValue: 'good' }, traceId: id(1, 16), spanId: id(2, 8) },
    { body: { stringValue: 'no trace context' } },
    { body: { stringValue: 'bad' }, traceId: id(1, 5) },
  ] }] }] });
}

const CASES = {
  traces: { make: traces, rejected: 'rejectedSpans', count: 2, kept: 3, message: /rejected 2 of 5 spans: 1 with a trace_id that is not 16 bytes .*resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[1\], 15 bytes.*; 1 with a span_id/ },
  metrics: { make: metrics, rejected: 'rejectedDataPoints', count: 2, kept: 3, message: /rejected 2 of 5 data points: 2 data points in 1 metric without a name/ },
  logs: { make: logs, rejected: 'rejectedLogRecords', count: 1, kept: 2, message: /rejected 1 of 3 log records: 1 with a trace_id that is not 16 bytes \(first: resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[2\], 5 bytes\)/ },
};

for (const transport of ['http', 'grpc']) {
  for (const [signal, c] of Object.entries(CASES)) {
    test(`${transport} ${signal}: invalid items rejected, the rest forwarded`, async () => {
      const run = `partial-${transport}-${signal}`;
      let body;
      if (transport === 'http') {
        const res = await post_otlp(s.gw.url('http'), signal, c.make(run));
        assert.equal(res.status, 200);
        body = res.body;
      } else {
        body = await grpc_export(s.gw.address('grpc'), signal, c.make(run));
      }
      const ps = decode_response(signal, body).partialSuccess;
      assert.equal(ps?.[c.rejected], c.count, JSON.stringify(ps));
      assert.match(ps.errorMessage, c.message);
      for (const b of s.backends) {
        await b.wait_count(signal, c.kept, { pred: mine(run) });
        const names = b.items(signal).filter(mine(run)).map((i) => i.name);
        assert.equal(names.length, c.kept, `${b.kind} backend: ${names}`);
        if (signal === 'traces') assert.deepEqual(names, ['good-1', 'good-2', 'good-3']);
      }
    });
  }
}

test('/metrics counts the rejected items by receiver, signal and reason', async () => {
  const text = await s.gw.metrics();
  const series = (signal, reason) =>
    `otlpgate_receiver_rejected_items_total{receiver="otlp",signal="${signal}",reason="${reason}"}`;
  // Both transports sent each case once.
  assert.equal(metric_value(text, series('traces', 'span_trace_id')), 2);
  assert.equal(metric_value(text, series('traces', 'span_span_id')), 2);
  assert.equal(metric_value(text, series('metrics', 'metric_name_missing')), 4);
  assert.equal(metric_value(text, series('logs', 'log_trace_id')), 2);
});
