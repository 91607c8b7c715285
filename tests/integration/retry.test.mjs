// A backend that answers 503 (HTTP) / UNAVAILABLE (gRPC) twice and then succeeds still receives
// everything, exactly once, thanks to the exporter's retry with backoff.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GrpcBackend, HttpBackend } from './lib/backends.mjs';
import { start_gateway, pipeline_config, backend_exporters, kill_all } from './lib/gateway.mjs';
import { post_otlp, grpc_export } from './lib/clients.mjs';
import { trace_request, logs_request } from './lib/fixtures.mjs';

let grpc_backend;
let http_backend;
let gw;

before(async () => {
  grpc_backend = await new GrpcBackend().start();
  http_backend = await new HttpBackend().start();
  const retry = `    retry_on_failure:
      enabled: true
      initial_interval: 100ms
      max_interval: 500ms
`;
  gw = await start_gateway(pipeline_config(backend_exporters(grpc_backend, http_backend, retry),
    ['otlp/grpcbackend', 'otlphttp/httpbackend']));
});

after(async () => {
  kill_all();
  await grpc_backend?.stop();
  await http_backend?.stop();
});

test('503 twice then 200: every item still arrives, once', async () => {
  grpc_backend.fail_next = 2;
  http_backend.fail_next = 2;
  const started = Date.now();
  assert.equal((await post_otlp(gw.url('http'), 'traces', trace_request('retry', 3))).status, 200);
  await grpc_export(gw.address('grpc'), 'logs', logs_request('retry', 5));
  for (const b of [grpc_backend, http_backend]) {
    await b.wait_count('traces', 12, { timeout_ms: 15000 });
    await b.wait_count('logs', 5, { timeout_ms: 15000 });
    assert.equal(b.fail_next, 0, `${b.kind} backend: both injected failures were hit`);
    assert.ok(b.attempts.length >= 4, `${b.kind} backend saw ${b.attempts.length} attempts, expected 2 failed + 2 accepted`);
  }
  // initial_interval is 100ms: two retries must not take anywhere near the 5s default.
  assert.ok(Date.now() - started < 5000, `retries took ${Date.now() - started} ms`);

  const exit = await gw.stop('SIGTERM');
  assert.equal(exit.code, 0, `exit status; stderr:\n${gw.err}`);
  for (const b of [grpc_backend, http_backend]) {
    assert.equal(b.count('traces'), 12, `${b.kind} backend: spans delivered exactly once`);
    assert.equal(b.count('logs'), 5, `${b.kind} backend: log records delivered exactly once`);
  }
});
