// SIGTERM drains: requests the gateway has acknowledged reach a slow backend before the process
// exits, and it exits 0 saying "otlpgate: stopped".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GrpcBackend, HttpBackend } from './lib/backends.mjs';
import { start_gateway, pipeline_config, backend_exporters, kill_all } from './lib/gateway.mjs';
import { post_otlp, grpc_export } from './lib/clients.mjs';
import { trace_request, logs_request, metrics_request } from './lib/fixtures.mjs';

let grpc_backend;
let http_backend;
let gw;

before(async () => {
  grpc_backend = await new GrpcBackend().start();
  http_backend = await new HttpBackend().start();
  grpc_backend.delay_ms = 300;
  http_backend.delay_ms = 300;
  // One consumer per exporter, so the queued requests are sent one after another (~300ms each)
  // and most of them are still queued when SIGTERM arrives.
  const queue = `    sending_queue:
      num_consumers: 1
`;
  gw = await start_gateway(pipeline_config(backend_exporters(grpc_backend, http_backend, queue),
    ['otlp/grpcbackend', 'otlphttp/httpbackend']));
});

after(async () => {
  kill_all();
  await grpc_backend?.stop();
  await http_backend?.stop();
});

test('items acknowledged before SIGTERM reach both slow backends, and the exit is clean', async () => {
  for (let i = 0; i < 3; i++) {
    assert.equal((await post_otlp(gw.url('http'), 'traces', trace_request(`drain-${i}`, 2))).status, 200);
  }
  await grpc_export(gw.address('grpc'), 'logs', logs_request('drain', 6));
  await grpc_export(gw.address('grpc'), 'metrics', metrics_request('drain', 4));
  // Every request is acknowledged; stop at once, long before the backends have answered them all.
  const exit = await gw.stop('SIGTERM', 20000);
  assert.deepEqual(exit, { code: 0, signal: null }, `exit status; stderr:\n${gw.err}`);
  assert.match(gw.err, /otlpgate: stopped/);
  for (const b of [grpc_backend, http_backend]) {
    assert.equal(b.count('traces'), 24, `${b.kind} backend: spans delivered before exit`);
    assert.equal(b.count('logs'), 6, `${b.kind} backend: log records delivered before exit`);
    assert.equal(b.count('metrics'), 4, `${b.kind} backend: metric points delivered before exit`);
  }
});
