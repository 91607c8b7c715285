// `otlpgate --config FILE --check`: a bad file exits 1 naming the file and the key path; a good one
// (including the documented Logfire exporter block, unchanged) prints "config OK" and exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { run_check, write_config } from './lib/gateway.mjs';

const RECEIVER = `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:4317
      http:
        endpoint: 127.0.0.1:4318
`;

// The exporter, extension and service blocks of the Logfire cloud-metrics guide, verbatim except
// that the pipeline's receiver is ours.
const SEED_000 = `${RECEIVER}
exporters:
  debug:
  otlphttp:
    # Configure the US / EU endpoint for Logfire.
    # - US: https://logfire-us.pydantic.dev
    # - EU: https://logfire-eu.pydantic.dev
    endpoint: "https://logfire-eu.pydantic.dev"
    headers:
      Authorization: "Bearer \${env:LOGFIRE_TOKEN}"

extensions:
  health_check:
    # The PORT env var is set by CloudRun
    endpoint: "0.0.0.0:\${env:PORT:-13133}"

service:
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [otlphttp, debug]
  extensions: [health_check]
`;

function output(r) {
  return `${r.stdout}${r.stderr}`;
}

test('a good config prints "config OK" and exits 0', () => {
  const file = write_config(SEED_000, 'good.yaml');
  const r = run_check(file, { LOGFIRE_TOKEN: 'x' });
  assert.equal(r.code, 0, output(r));
  assert.match(output(r), /config OK/);
});

test('--check binds nothing: it succeeds while the configured ports are taken', async () => {
  // Hold the receiver ports of the config (unless something else already does).
  const held = [];
  for (const port of [4317, 4318]) {
    const srv = net.createServer();
    const ok = await new Promise((resolve) => {
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) held.push(srv);
  }
  try {
    const r = run_check(write_config(SEED_000, 'good.yaml'), { LOGFIRE_TOKEN: 'x' });
    assert.equal(r.code, 0, output(r));
  } finally {
    for (const srv of held) srv.close();
  }
});

const BAD = [
  {
    what: 'an unknown key',
    yaml: `${RECEIVER}exporters:
  otlphttp:
    endpiont: "https://example.invalid"
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlphttp]
`,
    path: /exporters.otlphttp.endpiont/,
  },
  {
    what: 'a duration that is not one',
    yaml: `${RECEIVER}exporters:
  otlphttp:
    endpoint: "https://example.invalid"
    retry_on_failure:
      initial_interval: soon
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlphttp]
`,
    path: /exporters.otlphttp.retry_on_failure.initial_interval/,
  },
  {
    what: 'a pipeline naming an exporter that is not declared',
    yaml: `${RECEIVER}exporters:
  debug:
service:
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [debug, otlp/missing]
`,
    path: /service.pipelines.logs.exporters/,
    also: /otlp\/missing/,
  },
  {
    what: 'a compression that does not exist',
    yaml: `${RECEIVER}exporters:
  otlp:
    endpoint: "127.0.0.1:4317"
    compression: brotli
service:
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [otlp]
`,
    path: /exporters.otlp.compression/,
  },
];

for (const bad of BAD) {
  test(`--check rejects ${bad.what}: exit 1, file and key path in the message`, () => {
    const file = write_config(bad.yaml, 'bad.yaml');
    const r = run_check(file);
    assert.equal(r.code, 1, `exit code; output:\n${output(r)}`);
    assert.ok(output(r).includes(file), `message names ${file}:\n${output(r)}`);
    assert.match(output(r), bad.path);
    if (bad.also) assert.match(output(r), bad.also);
    assert.doesNotMatch(output(r), /config OK/);
  });
}

test('--check on a missing file exits 1 and names it', () => {
  const file = '/nonexistent/otlpgate-it.yaml';
  const r = run_check(file);
  assert.equal(r.code, 1, output(r));
  assert.ok(output(r).includes(file), output(r));
});
