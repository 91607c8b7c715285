// The official JS SDK's OTLP/HTTP JSON exporters (@opentelemetry/exporter-*-otlp-http) send
// metrics, traces and logs through otlpgate: both backends must receive exactly the items that the
// same SDK calls deliver through the HTTP/protobuf exporters, and the span ids the SDK generated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { with_gateway } from './lib/setup.mjs';
import { send_spans, send_logs, send_metrics, METRIC_POINTS_TOTAL } from './lib/sdk.mjs';

const SPANS = 25;
const LOGS = 40;
const POINTS = METRIC_POINTS_TOTAL;

const fx = with_gateway();

const url = () => fx.gw.url('http');
const of_run = (run) => (item) => item.resource['it.run'] === run;

// Fields that differ between two runs of the same SDK calls: timestamps and random ids.
const VOLATILE = new Set(['traceId', 'spanId', 'parentSpanId', 'startTimeUnixNano', 'endTimeUnixNano',
  'timeUnixNano', 'observedTimeUnixNano']);

function stable(value) {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) if (!VOLATILE.has(k)) out[k] = stable(v);
    return out;
  }
  return value;
}

// A metric without its points: name, unit, description, type, temporality, monotonicity.
function metric_shape(metric) {
  const m = metric.toJSON();
  for (const k of ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary']) {
    if (m[k]) m[k] = { ...m[k], dataPoints: undefined };
  }
  return m;
}

// Everything the backend got for one item except the run tag, timestamps and ids, as one string.
function comparable(item) {
  const { 'it.run': _run, ...resource } = item.resource;
  return JSON.stringify({
    resource,
    scope: item.scope,
    metric: item.metric && metric_shape(item.metric),
    item: stable(item.message.toJSON()),
  });
}

async function received(backend, signal, run, n) {
  await backend.wait_count(signal, n, { pred: of_run(run) });
  const got = backend.items(signal).filter(of_run(run));
  assert.equal(got.length, n, `${backend.kind} backend: ${signal} items of ${run}`);
  return got;
}

async function assert_same_items(signal, n) {
  for (const b of fx.backends) {
    const json = (await received(b, signal, `${signal}-json`, n)).map(comparable).sort();
    const proto = (await received(b, signal, `${signal}-proto`, n)).map(comparable).sort();
    assert.deepEqual(json, proto, `${b.kind} backend: ${signal} via JSON differ from ${signal} via protobuf`);
  }
}

test(`SDK JSON exporter: ${SPANS} spans arrive as via protobuf, with the SDK's ids`, async () => {
  await send_spans('http', url(), 'traces-proto', SPANS);
  const contexts = await send_spans('json', url(), 'traces-json', SPANS);
  await assert_same_items('traces', SPANS);
  const hex = (b) => Buffer.from(b).toString('hex');
  const sent = contexts.map((c) => `${c.traceId}/${c.spanId}`).sort();
  assert.equal(sent.length, SPANS);
  for (const b of fx.backends) {
    const got = b.items('traces').filter(of_run('traces-json'))
      .map((s) => `${hex(s.message.traceId)}/${hex(s.message.spanId)}`).sort();
    assert.deepEqual(got, sent, `${b.kind} backend: span ids`);
  }
});

test(`SDK JSON exporter: ${LOGS} log records arrive as via protobuf`, async () => {
  await send_logs('http', url(), 'logs-proto', LOGS);
  await send_logs('json', url(), 'logs-json', LOGS);
  await assert_same_items('logs', LOGS);
});

test(`SDK JSON exporter: ${POINTS} metric points arrive as via protobuf`, async () => {
  await send_metrics('http', url(), 'metrics-proto');
  await send_metrics('json', url(), 'metrics-json');
  await assert_same_items('metrics', POINTS);
});
