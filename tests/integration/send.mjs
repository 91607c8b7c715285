// Sends a few spans, log records and metric points to a running gateway with the official
// OpenTelemetry JS SDK exporters — the README's quick start:
//   cd tests/integration && npm ci && node send.mjs [grpc|http] [url]
// Default: gRPC to http://127.0.0.1:4317; http uses http://127.0.0.1:4318.
import { send_spans, send_logs, send_metrics } from './lib/sdk.mjs';

const transport = process.argv[2] ?? 'grpc';
if (transport !== 'grpc' && transport !== 'http') {
  console.error('usage: node send.mjs [grpc|http] [url]');
  process.exit(2);
}
const url = process.argv[3] ?? (transport === 'grpc' ? 'http://127.0.0.1:4317' : 'http://127.0.0.1:4318');
const run = `readme-${Date.now()}`;
await send_spans(transport, url, run, 10);
await send_logs(transport, url, run, 10);
await send_metrics(transport, url, run);
console.log(`sent 10 spans, 10 log records and 10 metric points over ${transport} to ${url} (it.run=${run})`);
