// With no processors, otlpgate forwards the very bytes it received: a fixed serialized request sent
// over HTTP and over gRPC arrives byte-identical (sha256) at the OTLP/gRPC and OTLP/HTTP backends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GrpcBackend, HttpBackend, sha256 } from './lib/backends.mjs';
import { start_gateway, pipeline_config, backend_exporters, kill_all } from './lib/gateway.mjs';
import { post_otlp, grpc_export } from './lib/clients.mjs';
import { trace_request, logs_request, metrics_request, with_unknown_field } from './lib/fixtures.mjs';
import { wait_until } from './lib/wait.mjs';

let grpc_backend;
let http_backend;
let gw;

before(async () => {
  grpc_backend = await new GrpcBackend().start();
  http_backend = await new HttpBackend().start();
  gw = await start_gateway(pipeline_config(backend_exporters(grpc_backend, http_backend),
    ['otlp/grpcbackend', 'otlphttp/httpbackend']));
});

after(async () => {
  kill_all();
  await grpc_backend?.stop();
  await http_backend?.stop();
});

// Sends `body` once, then waits until both backends hold a request of that signal with the same
// sha256; reports the hashes seen when they never do.
async function assert_forwarded_verbatim(signal, body, send) {
  const want = sha256(body);
  const response = await send(body);
  for (const b of [grpc_backend, http_backend]) {
    await wait_until(() => b.requests.some((r) => r.signal === signal && sha256(r.body) === want), 10000,
      () => `${b.kind} backend holds the ${body.length}-byte ${signal} request unchanged; it has: ` +
        b.requests.filter((r) => r.signal === signal).map((r) => `${r.body.length} bytes ${sha256(r.body).slice(0, 12)}`).join(', '));
  }
  return response;
}

test('traces POSTed over HTTP are forwarded byte-identical to both backends', async () => {
  const body = trace_request('bytes-http');
  const res = await assert_forwarded_verbatim('traces', body, (b) => post_otlp(gw.url('http'), 'traces', b));
  assert.equal(res.status, 200);
  const path = http_backend.requests.find((r) => sha256(r.body) === sha256(body)).path;
  assert.equal(path, '/v1/traces');
});

test('traces sent over gRPC are forwarded byte-identical to both backends', async () => {
  const body = trace_request('bytes-grpc', 5);
  await assert_forwarded_verbatim('traces', body, (b) => grpc_export(gw.address('grpc'), 'traces', b));
});

test('gzip-compressed gRPC messages are forwarded as the uncompressed request bytes', async () => {
  const body = trace_request('bytes-grpc-gzip', 3);
  await assert_forwarded_verbatim('traces', body, (b) => grpc_export(gw.address('grpc'), 'traces', b, { compression: 'gzip' }));
});

test('logs and metrics are forwarded byte-identical too (HTTP in, gRPC in)', async () => {
  await assert_forwarded_verbatim('logs', logs_request('bytes-logs', 12), (b) => post_otlp(gw.url('http'), 'logs', b));
  await assert_forwarded_verbatim('metrics', metrics_request('bytes-metrics', 9), (b) => grpc_export(gw.address('grpc'), 'metrics', b));
});

test('unknown fields survive: the request is forwarded exactly as received', async () => {
  const body = with_unknown_field(trace_request('bytes-unknown', 2));
  const res = await assert_forwarded_verbatim('traces', body, (b) => post_otlp(gw.url('http'), 'traces', b));
  assert.equal(res.status, 200);
});
