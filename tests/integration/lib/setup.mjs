// A test file's set-up in one call: before() starts the test backends and a gateway forwarding
// every signal to all of them, after() stops everything.
import { before, after } from 'node:test';
import { GrpcBackend, HttpBackend } from './backends.mjs';
import { start_gateway, pipeline_config, backend_exporters, kill_all } from './gateway.mjs';

// `backends`: which test backends to start ('grpc', 'http'); `exporter`: extra YAML (indented 4)
// for each backend's exporter; `config`: pipeline_config options (receiver protocol lines,
// health, ...); `start`: start_gateway options. Returns {gw, grpc_backend, http_backend, backends},
// filled in once before() has run.
export function with_gateway({ backends = ['grpc', 'http'], exporter = '', config = {}, start = {} } = {}) {
  const s = { backends: [] };
  before(async () => {
    if (backends.includes('grpc')) s.grpc_backend = await new GrpcBackend().start();
    if (backends.includes('http')) s.http_backend = await new HttpBackend().start();
    s.backends = [s.grpc_backend, s.http_backend].filter(Boolean);
    const ids = [s.grpc_backend && 'otlp/grpcbackend', s.http_backend && 'otlphttp/httpbackend'].filter(Boolean);
    s.gw = await start_gateway(pipeline_config(backend_exporters(s.grpc_backend, s.http_backend, exporter), ids, config), start);
  });
  after(async () => {
    kill_all();
    for (const b of s.backends) await b.stop();
  });
  return s;
}
