// Exporter `headers` (with ${env:NAME} and ${env:NAME:-default} substitution) reach the backends:
// as HTTP request headers for otlphttp and as gRPC metadata for otlp.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GrpcBackend, HttpBackend } from './lib/backends.mjs';
import { start_gateway, pipeline_config, backend_exporters, kill_all } from './lib/gateway.mjs';
import { post_otlp, grpc_export } from './lib/clients.mjs';
import { trace_request, logs_request } from './lib/fixtures.mjs';

const TOKEN = 'it-token-6f1c2b';

let grpc_backend;
let http_backend;
let gw;

before(async () => {
  grpc_backend = await new GrpcBackend().start();
  http_backend = await new HttpBackend().start();
  const headers = `    headers:
      Authorization: "Bearer \${env:TEST_TOKEN}"
      X-Tenant: "\${env:OTLPGATE_IT_UNSET_TENANT:-acme}"
`;
  const env = { TEST_TOKEN: TOKEN };
  delete process.env.OTLPGATE_IT_UNSET_TENANT;
  gw = await start_gateway(pipeline_config(backend_exporters(grpc_backend, http_backend, headers),
    ['otlp/grpcbackend', 'otlphttp/httpbackend']), { env });
});

after(async () => {
  kill_all();
  await grpc_backend?.stop();
  await http_backend?.stop();
});

test('configured headers reach the OTLP/HTTP backend on every request', async () => {
  assert.equal((await post_otlp(gw.url('http'), 'traces', trace_request('hdr-1', 1))).status, 200);
  await grpc_export(gw.address('grpc'), 'logs', logs_request('hdr-2', 3));
  await http_backend.wait_count('traces', 4);
  await http_backend.wait_count('logs', 3);
  for (const r of http_backend.requests) {
    assert.equal(r.headers.authorization, `Bearer ${TOKEN}`, `${r.path}: Authorization`);
    assert.equal(r.headers['x-tenant'], 'acme', `${r.path}: X-Tenant from the env default`);
    assert.match(r.headers['content-type'] || '', /^application\/x-protobuf/, `${r.path}: Content-Type`);
  }
});

test('configured headers reach the OTLP/gRPC backend as metadata', async () => {
  await grpc_backend.wait_count('traces', 4);
  await grpc_backend.wait_count('logs', 3);
  for (const r of grpc_backend.requests) {
    assert.equal(r.headers.authorization, `Bearer ${TOKEN}`, `${r.path}: authorization metadata`);
    assert.equal(r.headers['x-tenant'], 'acme', `${r.path}: x-tenant metadata`);
  }
});

test('the token is not printed in the gateway output', () => {
  assert.ok(!gw.err.includes(TOKEN) && !gw.out.includes(TOKEN), 'otlpgate printed the bearer token');
});
