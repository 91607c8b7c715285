// The awsfirehose receiver through the real binary: every delivery body of tests/fixtures/firehose
// (real Collector samples, hand-written CloudWatch OpenTelemetry 1.0.0 records) posted as Firehose
// posts them, to two test backends; the protocol's status codes; 0.7.0 records built here from the
// v0.7.0 schema; and seed 003's Firehose → S3 → Lambda flow replaced by Firehose → otlpgate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { GrpcBackend, HttpBackend } from './lib/backends.mjs';
import { start_gateway, backend_exporters, metric_value, kill_all } from './lib/gateway.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.resolve(here, '../fixtures/firehose/deliveries');
const MANIFEST = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'MANIFEST.json'), 'utf8'));
const KEY = 'otlpgate-fixture-access-key';
const SERVICE_NAME = 'awsCloudwatchMetrics';  // seed 003's OTEL_SERVICE_NAME default

const RECEIVER = `    endpoint: 127.0.0.1:0
    access_key: \${env:IT_FIREHOSE_KEY}
`;
const CONFIG = (exporters) => `receivers:
  awsfirehose:
${RECEIVER}  awsfirehose/reject:
${RECEIVER}    on_invalid_record: reject
  awsfirehose/nodedup:
${RECEIVER}    request_id_dedup:
      window: 0s
  awsfirehose/small:
${RECEIVER}    max_request_body_size: 4096
  awsfirehose/seed003:
${RECEIVER}    encoding: otel1
  awsfirehose/overload:
${RECEIVER}processors:
  resource/seed003:
    attributes:
      - {key: service.name, value: ${SERVICE_NAME}, action: insert}
exporters:
${exporters}extensions:
  health_check:
    endpoint: 127.0.0.1:0
service:
  extensions: [health_check]
  pipelines:
    metrics:
      receivers: [awsfirehose, awsfirehose/reject, awsfirehose/nodedup, awsfirehose/small]
      exporters: [otlp/grpcbackend, otlphttp/httpbackend]
    logs:
      receivers: [awsfirehose, awsfirehose/reject, awsfirehose/nodedup]
      exporters: [otlp/grpcbackend, otlphttp/httpbackend]
    metrics/seed003:
      receivers: [awsfirehose/seed003]
      processors: [resource/seed003]
      exporters: [otlp/grpcbackend, otlphttp/httpbackend]
    metrics/overload:
      receivers: [awsfirehose/overload]
      exporters: [otlphttp/stuck]
`;

let grpc_backend;
let http_backend;
let stuck_backend;  // accepts connections and never answers: its exporter's one consumer hangs
const stuck_sockets = new Set();
let gw;

before(async () => {
  grpc_backend = await new GrpcBackend().start();
  http_backend = await new HttpBackend().start();
  stuck_backend = net.createServer((sock) => {
    stuck_sockets.add(sock);
    sock.on('error', () => {});
    sock.on('close', () => stuck_sockets.delete(sock));
  });
  await new Promise((resolve) => stuck_backend.listen(0, '127.0.0.1', resolve));
  const exporters = backend_exporters(grpc_backend, http_backend, '    retry_on_failure:\n      initial_interval: 100ms\n') +
    `  otlphttp/stuck:
    endpoint: http://127.0.0.1:${stuck_backend.address().port}
    timeout: 60s
    sending_queue:
      num_consumers: 1
      queue_size: 1
`;
  gw = await start_gateway(CONFIG(exporters), {
    env: { IT_FIREHOSE_KEY: KEY }, expect: ['firehose', 'health'],
  });
  await new Promise((r) => setTimeout(r, 200));  // every listener line has been read by now
});

after(async () => {
  kill_all();
  for (const b of [grpc_backend, http_backend]) await b?.stop();
  for (const sock of stuck_sockets) sock.destroy();
  await new Promise((resolve) => stuck_backend?.close(() => resolve()) ?? resolve());
});

const backends = () => [grpc_backend, http_backend];

function port_of(receiver) {
  const l = gw.listeners.find((x) => x.receiver === receiver && x.protocol === 'firehose');
  if (!l) throw new Error(`no firehose listener ${receiver}; stderr:\n${gw.err}`);
  return l.port;
}

function manifest(file) {
  const m = MANIFEST.deliveries.find((d) => d.file === file);
  if (!m) throw new Error(`${file} is not in MANIFEST.json`);
  return m;
}

// POSTs a delivery body as Firehose does, with the MANIFEST's headers for `file` (or `id` for a
// body built here). `run` tags the data through the common-attributes header.
// `key: null` sends no access key.
async function deliver(receiver, { file, body, id, run, key = KEY, headers = {} }) {
  const m = file ? manifest(file) : undefined;
  const h = { ...(m ? m.headers : {
    'Content-Type': 'application/json', 'X-Amz-Firehose-Protocol-Version': '1.0', 'X-Amz-Firehose-Request-Id': id,
  }) };
  if (key === null) delete h['X-Amz-Firehose-Access-Key'];
  else h['X-Amz-Firehose-Access-Key'] = key;
  if (run) h['X-Amz-Firehose-Common-Attributes'] = JSON.stringify({ commonAttributes: { 'it.run': run } });
  Object.assign(h, headers);
  for (const [k, v] of Object.entries(h)) if (v === undefined) delete h[k];
  const res = await fetch(`http://127.0.0.1:${port_of(receiver)}/`, {
    method: 'POST', headers: h, body: body ?? fs.readFileSync(path.join(FIXTURES, file)),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text, headers: res.headers };
}

// Asserts Firehose's response shape: JSON {requestId, timestamp[, errorMessage]}, no encoding.
function assert_shape(r, id) {
  assert.ok(r.json, `JSON body, got ${r.text}`);
  assert.equal(r.headers.get('content-type'), 'application/json');
  assert.equal(r.headers.get('content-encoding'), null);
  assert.equal(r.json.requestId, id);
  assert.equal(typeof r.json.timestamp, 'number');
}

const of_run = (run) => (item) => item.resource['it.run'] === run;

// Waits until every backend holds `n` items of `signal` tagged `run`, lets stragglers arrive,
// checks there are exactly `n`, and returns the first backend's items.
async function arrived(signal, run, n) {
  let first;
  for (const b of backends()) await b.wait_count(signal, n, { pred: of_run(run) });
  await new Promise((r) => setTimeout(r, 300));
  for (const b of backends()) {
    const got = b.items(signal).filter(of_run(run));
    assert.equal(got.length, n, `${b.kind} backend: ${signal} items of ${run}`);
    first ??= got;
  }
  return first;
}

async function nothing_arrived(run) {
  await new Promise((r) => setTimeout(r, 500));
  for (const b of backends()) {
    for (const signal of ['metrics', 'logs']) assert.equal(b.count(signal, of_run(run)), 0, `${b.kind} ${signal} of ${run}`);
  }
}

const metrics_of = (items) => new Set(items.map((i) => `${JSON.stringify(i.resource)}|${i.name}|${i.metric.unit}`));
const resources_of = (items) => new Set(items.map((i) => JSON.stringify(i.resource)));

// ---- every fixture body ----

test('cwmetrics_single_record: one summary point mapped as the Collector maps it', async () => {
  const file = 'cwmetrics_single_record.json';
  const r = await deliver('awsfirehose', { file, run: 'cwm-single' });
  assert.equal(r.status, 200, r.text);
  assert_shape(r, manifest(file).requestId);
  assert.equal(r.json.errorMessage, undefined);
  const [p] = await arrived('metrics', 'cwm-single', 1);
  assert.deepEqual({ ...p.resource, 'it.run': undefined }, {
    'cloud.provider': 'aws', 'cloud.account.id': '1234567890', 'cloud.region': 'us-east-1',
    'service.namespace': 'AWS', 'service.name': 'EC2', 'aws.cloudwatch.metric_stream_name': 'MyMetricStream',
    'it.run': undefined,
  });
  assert.equal(p.name, 'DiskWriteOps');
  assert.equal(p.metric.unit, 'Seconds');
  assert.ok(p.metric.summary, 'a Summary');
  assert.deepEqual(p.attributes, { 'service.instance.id': 'i-123456789012' });
  assert.equal(String(p.message.timeUnixNano), '1611929698000000000');
  assert.equal(String(p.message.count), '3');
  assert.equal(p.message.sum, 20);
  assert.deepEqual(p.message.quantileValues.map((q) => [q.quantile ?? 0, q.value ?? 0]), [[0, 0], [0.9, 16], [0.99, 17], [1, 18]]);
});

for (const file of ['cwmetrics_some_invalid_records.json', 'cwmetrics_some_invalid_records_split.json']) {
  test(`${file}: 88 points in 36 metrics and 5 resources, the 4 bad lines reported`, async () => {
    const run = `cwm-${file}`;
    const r = await deliver('awsfirehose', { file, run });
    assert.equal(r.status, 200, r.text);
    assert.match(r.json.errorMessage, /^4 CloudWatch metric lines skipped, not forwarded; first: record 0: line 1: /);
    const items = await arrived('metrics', run, 88);
    assert.equal(metrics_of(items).size, 36);
    assert.equal(resources_of(items).size, 5);
  });
}

test('cwmetrics_some_invalid_records.json.gz: Content-Encoding gzip is undone first', async () => {
  // The same requestId as the plain body: sent to a receiver without a request-id window.
  const r = await deliver('awsfirehose/nodedup', { file: 'cwmetrics_some_invalid_records.json.gz', run: 'cwm-gzip' });
  assert.equal(r.status, 200, r.text);
  const items = await arrived('metrics', 'cwm-gzip', 88);
  assert.equal(metrics_of(items).size, 36);
});

const CWLOGS = {
  'cwlogs_single_record.json': { logs: 2, resources: 1 },
  'cwlogs_multiple_records.json': { logs: 2, resources: 1 },
  'cwlogs_some_invalid_records.json': { logs: 2, resources: 1, error: /^1 of 3 records invalid, not forwarded; first: record 1: / },
  'cwlogs_two_records_different_extracted_fields.json': { logs: 2, resources: 2 },
  'cwlogs_only_control.json': { logs: 0 },
  'cwlogs_invalid_records.json': { logs: 0, error: /^1 of 1 records invalid/ },
};
for (const [file, want] of Object.entries(CWLOGS)) {
  test(`${file}: ${want.logs} log records`, async () => {
    const run = `cwl-${file}`;
    const r = await deliver('awsfirehose', { file, run });
    assert.equal(r.status, 200, r.text);
    if (want.error) assert.match(r.json.errorMessage, want.error);
    else assert.equal(r.json.errorMessage, undefined, r.text);
    if (want.logs === 0) return nothing_arrived(run);
    const items = await arrived('logs', run, want.logs);
    assert.equal(resources_of(items).size, want.resources);
    for (const i of items) {
      assert.equal(i.resource['cloud.provider'], 'aws');
      assert.deepEqual(i.resource['aws.log.group.names'], ['test']);
      assert.deepEqual(i.resource['aws.log.stream.names'], ['test']);
    }
    if (file.includes('extracted')) {
      assert.deepEqual(items.map((i) => [i.resource['cloud.account.id'], i.resource['cloud.region']]).sort(),
        [['111111111111', 'us-east-1'], ['222222222222', 'us-west-2']]);
    } else {
      assert.ok(items.every((i) => i.resource['cloud.account.id'] === '123'));
    }
    if (file === 'cwlogs_single_record.json') {
      assert.equal(items[0].name, 'Hello world, here is our first log message!');
      assert.equal(String(items[0].message.timeUnixNano), '1725544035523000000');
    }
  });
}

test('firehoselog_firehose_log.json: not a CloudWatch format, reported and dropped', async () => {
  const r = await deliver('awsfirehose', { file: 'firehoselog_firehose_log.json', run: 'raw-log' });
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.errorMessage, /^1 of 1 records invalid/);
  await nothing_arrived('raw-log');
});

test('otel10_delivery.json: 4 requests, 56 metrics, 68 summary points', async () => {
  const r = await deliver('awsfirehose', { file: 'otel10_delivery.json', run: 'otel10' });
  assert.equal(r.status, 200, r.text);
  const items = await arrived('metrics', 'otel10', 68);
  assert.equal(new Set(items.map((i) => i.metric)).size, 56);  // names repeat across requests
  assert.ok(items.every((i) => i.metric.summary && i.resource['cloud.provider'] === 'aws'));
});

test('otel10_truncated_delivery.json: drop forwards record 0, reject answers 400', async () => {
  const file = 'otel10_truncated_delivery.json';
  let r = await deliver('awsfirehose', { file, run: 'truncated-drop' });
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.errorMessage, /record 1: message 2 \(at byte 1745\): length prefix 4455 runs past the end/);
  await arrived('metrics', 'truncated-drop', 7);
  r = await deliver('awsfirehose/reject', { file, run: 'truncated-reject' });
  assert.equal(r.status, 400, r.text);
  assert_shape(r, manifest(file).requestId);
  assert.match(r.json.errorMessage, /on_invalid_record: reject/);
  await nothing_arrived('truncated-reject');
});

test('invalid CloudWatch Logs records under reject: 400 and nothing forwarded; Firehose retries', async () => {
  const r = await deliver('awsfirehose/reject', { file: 'cwlogs_some_invalid_records.json', run: 'cwl-reject' });
  assert.equal(r.status, 400, r.text);
  await nothing_arrived('cwl-reject');
  // Not remembered: the retry is decoded (and refused) again rather than answered 200.
  assert.equal((await deliver('awsfirehose/reject', { file: 'cwlogs_some_invalid_records.json', run: 'cwl-reject' })).status, 400);
});

// ---- OpenTelemetry 0.7.0, built from the v0.7.0 schema ----

test('an OpenTelemetry 0.7.0 record is converted to v1', async () => {
  const root = protobuf.loadSync(path.resolve(here, '../proto/otel07/metrics_v07.proto'));
  const Request = root.lookupType('otlpgate.test.otel07.ExportMetricsServiceRequest');
  const msg = Request.encode(Request.fromObject({
    resourceMetrics: [{
      resource: { attributes: [{ key: 'cloud.provider', value: { stringValue: 'aws' } }] },
      instrumentationLibraryMetrics: [{
        metrics: [
          { name: 'amazonaws.com/AWS/SQS/NumberOfMessagesSent', unit: '{Count}', doubleSummary: { dataPoints: [{
            labels: [{ key: 'Namespace', value: 'AWS/SQS' }, { key: 'QueueName', value: 'orders' }],
            timeUnixNano: '1736935500000000000', count: '2', sum: 5,
            quantileValues: [{ quantile: 0, value: 2 }, { quantile: 1, value: 3 }],
          }] } },
          { name: 'int.gauge', intGauge: { dataPoints: [{ labels: [{ key: 'k', value: 'v' }], value: '-4' }] } },
        ],
      }],
    }],
  })).finish();
  const record = Buffer.concat([Buffer.from(protobuf.Writer.create().uint32(msg.length).finish()), msg]);
  const id = crypto.randomUUID();
  const body = JSON.stringify({ requestId: id, timestamp: Date.now(), records: [{ data: record.toString('base64') }] });
  const r = await deliver('awsfirehose', { body, id, run: 'otel07' });
  assert.equal(r.status, 200, r.text);
  const items = await arrived('metrics', 'otel07', 2);
  const summary = items.find((i) => i.metric.summary);
  assert.deepEqual(summary.attributes, { Namespace: 'AWS/SQS', QueueName: 'orders' });
  assert.equal(summary.message.sum, 5);
  const gauge = items.find((i) => i.metric.gauge);
  assert.equal(String(gauge.message.asInt), '-4');
  assert.deepEqual(gauge.attributes, { k: 'v' });
});

// ---- the protocol ----

test('the same delivery posted twice is forwarded once', async () => {
  const file = 'otel10_delivery.json';
  // awsfirehose already took this body above; each receiver has its own window, and the reject
  // receiver's has not seen it.
  for (let i = 0; i < 2; i++) assert.equal((await deliver('awsfirehose/reject', { file, run: 'twice' })).status, 200);
  await arrived('metrics', 'twice', 68);
  const text = await gw.metrics();
  assert.equal(metric_value(text, 'otlpgate_firehose_redeliveries_total{receiver="awsfirehose/reject"}'), 1);
});

test('missing or different request id: 400 with a message', async () => {
  const file = 'cwmetrics_single_record.json';
  let r = await deliver('awsfirehose', { file, headers: { 'X-Amz-Firehose-Request-Id': undefined }, run: 'noid' });
  assert.equal(r.status, 400);
  assert.equal(r.json.errorMessage, 'missing request id in header');
  r = await deliver('awsfirehose', { file, headers: { 'X-Amz-Firehose-Request-Id': 'not-the-body-id' }, run: 'noid' });
  assert.equal(r.status, 400);
  assert_shape(r, 'not-the-body-id');
  assert.equal(r.json.errorMessage, 'different request id in body');
  const id = crypto.randomUUID();
  r = await deliver('awsfirehose', { body: JSON.stringify({ timestamp: 1, records: [] }), id, run: 'noid' });
  assert.equal(r.status, 400);
  assert.equal(r.json.errorMessage, 'missing request id in body');
  await nothing_arrived('noid');
});

test('access key missing or wrong: 401, and the key is never logged', async () => {
  const file = 'cwmetrics_single_record.json';
  let r = await deliver('awsfirehose/nodedup', { file, key: null, run: 'nokey' });
  assert.equal(r.status, 401, r.text);
  assert_shape(r, manifest(file).requestId);
  r = await deliver('awsfirehose/nodedup', { file, key: 'wrong-key-4711', run: 'nokey' });
  assert.equal(r.status, 401, r.text);
  assert.ok(!r.text.includes('wrong-key-4711') && !r.text.includes(KEY), r.text);
  await nothing_arrived('nokey');
  assert.ok(!gw.err.includes(KEY) && !gw.err.includes('wrong-key-4711'), 'no key on stderr');
});

test('common attributes become resource attributes without overwriting', async () => {
  const r = await deliver('awsfirehose/nodedup', {
    file: 'cwmetrics_single_record.json',
    headers: { 'X-Amz-Firehose-Common-Attributes': JSON.stringify({ commonAttributes: { 'it.run': 'common', env: 'prod', 'cloud.region': 'eu-west-1' } }) },
  });
  assert.equal(r.status, 200, r.text);
  const [p] = await arrived('metrics', 'common', 1);
  assert.equal(p.resource.env, 'prod');
  assert.equal(p.resource['cloud.region'], 'us-east-1', 'already set by the record: kept');
});

test('a body over max_request_body_size is refused with 400, never 413', async () => {
  // Plain: the HTTP server stops reading at the limit. Gzip: decompression stops at it.
  let r = await deliver('awsfirehose/small', { file: 'cwmetrics_some_invalid_records.json', run: 'big' });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.errorMessage, /not 413/);
  r = await deliver('awsfirehose/small', { file: 'cwmetrics_some_invalid_records.json.gz', run: 'big' });
  assert.equal(r.status, 400, r.text);
  assert_shape(r, manifest('cwmetrics_some_invalid_records.json.gz').requestId);
  assert.match(r.json.errorMessage, /exceeds 4096 bytes after decompression/);
  await nothing_arrived('big');
});

test('overload: queues that cannot take the data answer 503, so Firehose retries', async () => {
  const template = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'cwmetrics_single_record.json'), 'utf8'));
  let refused;
  for (let i = 0; i < 5 && !refused; i++) {
    const id = crypto.randomUUID();
    const r = await deliver('awsfirehose/overload', { body: JSON.stringify({ ...template, requestId: id }), id });
    if (r.status !== 200) refused = { r, id };
  }
  assert.ok(refused, 'a delivery was refused once the queue was full');
  assert.equal(refused.r.status, 503, refused.r.text);
  assert_shape(refused.r, refused.id);
  assert.match(refused.r.json.errorMessage, /queue full/);
});

// ---- seed 003: Firehose → otlpgate, no S3 bucket, no Lambda ----

test('seed 003: a metric stream delivery gets service.name and reaches both backends', async () => {
  const r = await deliver('awsfirehose/seed003', { file: 'otel10_delivery.json', run: 'seed003' });
  assert.equal(r.status, 200, r.text);
  const items = await arrived('metrics', 'seed003', 68);
  for (const i of items) {
    assert.equal(i.resource['service.name'], SERVICE_NAME);
    assert.equal(i.resource['cloud.provider'], 'aws');
  }
  const text = await gw.metrics();
  assert.equal(metric_value(text, 'otlpgate_firehose_records_total{receiver="awsfirehose/seed003",format="otel1"}'), 2);
});

test('counters: records by format and invalid records by reason', async () => {
  const text = await gw.metrics();
  assert.ok(metric_value(text, 'otlpgate_firehose_invalid_records_total{receiver="awsfirehose",reason="cwlogs"}') >= 2);
  assert.ok(metric_value(text, 'otlpgate_firehose_invalid_records_total{receiver="awsfirehose",reason="otel_framing"}') >= 1);
  assert.ok(metric_value(text, 'otlpgate_firehose_invalid_records_total{receiver="awsfirehose",reason="cwmetrics_line"}') >= 8);
  assert.ok(metric_value(text, 'otlpgate_firehose_records_total{receiver="awsfirehose",format="cwlogs"}') >= 5);
  assert.equal(metric_value(text, 'otlpgate_firehose_control_messages_total{receiver="awsfirehose"}'), 1);
  assert.ok(metric_value(text, 'otlpgate_firehose_requests_total{receiver="awsfirehose",code="401"}') === 0);
  assert.ok(metric_value(text, 'otlpgate_firehose_requests_total{receiver="awsfirehose/nodedup",code="401"}') === 2);
});
